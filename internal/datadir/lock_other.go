//go:build !unix

package datadir

import (
	"errors"
	"os"
)

// tryLock refuses where there is no flock: running without the guarantee
// would let two servers share one directory silently.
func tryLock(*os.File) (bool, error) {
	return false, errors.New("locking the data directory is not supported on this system")
}

func unlock(*os.File) error { return nil }
