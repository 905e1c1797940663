package main

import (
	"bufio"
	"errors"
	"os"
	"sync"
	"time"
)

// pcapFlushInterval is how often the capture reaches the file while ws2d
// runs, so that it can be read live (tail -f, tshark -r).
const pcapFlushInterval = time.Second

// pcapFile is the --pcap capture: a buffered writer (the stack writes one
// record per packet, on the packet path), flushed every pcapFlushInterval
// and on Close.
type pcapFile struct {
	mu   sync.Mutex
	f    *os.File
	bw   *bufio.Writer
	err  error // first write or flush error
	stop chan struct{}
	done chan struct{}
}

func createPcap(path string) (*pcapFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	p := &pcapFile{f: f, bw: bufio.NewWriterSize(f, 256<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go p.flusher()
	return p, nil
}

// Write buffers one record.
func (p *pcapFile) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.bw.Write(b)
	if err != nil {
		p.err = err
	}
	return n, err
}

func (p *pcapFile) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = p.bw.Flush()
	}
}

func (p *pcapFile) flusher() {
	defer close(p.done)
	t := time.NewTicker(pcapFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.flush()
		case <-p.stop:
			return
		}
	}
}

// Close flushes the capture and closes the file. Call it once, after the
// NIC is gone.
func (p *pcapFile) Close() error {
	close(p.stop)
	<-p.done
	p.flush()
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.err, p.f.Close())
}
