// Package importer turns the self-check tables (自查表) that units keep in
// Word and Excel, and structured figure sheets, into domain commands.
//
// Importing is two steps so that a dry run is just the first one: Plan reads
// a table into an ImportPlan (commands, a summary and warnings, each with the
// line it came from) without touching any store; Apply runs a plan through
// the command service. Every command id is derived from the content, never
// from the batch, so importing the same file twice, under any batch id,
// changes nothing. Undo compensates with new events; nothing is deleted.
//
// docs/import.md is the user-facing description of formats, quirks, warning
// codes and what Undo does and does not compensate.
package importer
