// Package docstest runs what the documentation tells a reader to type: the
// README's quick start and docs/intake.md's NATS requests, read from the
// Markdown files themselves, against a real kpitrail serve and the real
// nats CLI. A command that fails, prints nothing or prints other than the
// document shows fails the test, so the documents and the program cannot
// drift apart. It has no production code.
package docstest
