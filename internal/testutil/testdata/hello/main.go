// Command hello is the main package that the tests of BuildOnce build.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("hello from", os.Args[0])
}
