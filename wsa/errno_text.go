package wsa

var errnoText = map[Errno]string{}

var errnoName = map[Errno]string{}
