//go:build !unix

package natstest

// lockFile does nothing here: concurrent builders may duplicate work, but
// the atomic rename still leaves one complete binary.
func lockFile(string) (func(), error) { return func() {}, nil }
