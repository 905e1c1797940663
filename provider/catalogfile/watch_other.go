//go:build !linux

package catalogfile

import "errors"

type watcher struct{}

func watch(*File) (*watcher, error) {
	return nil, errors.New("catalogfile: Watch needs inotify (Linux)")
}

func (*watcher) close() {}
