//go:build unix

package datadir

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes flock(2) without waiting. flock belongs to the open file,
// so the kernel drops it when the owner exits however it exits; it is not
// reliable on network filesystems, and the data directory belongs on a
// local disk anyway (JetStream fsyncs there).
func tryLock(f *os.File) (held bool, err error) {
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}

func unlock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
