package feed

import "kpitrail/eventstore"

// Test seams: fail the translation of a message, or the commit after its
// publishes, as a bug or a crash would.

func SetTranslateHook(f *Feed, h func(eventstore.Message) error) { f.hooks.translate = h }

func SetBeforeCommitHook(f *Feed, h func(position uint64) error) { f.hooks.beforeCommit = h }

var ErrTranslate = errTranslate
