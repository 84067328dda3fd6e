// Package demo is the seed self-check table (怀柔区政府2022年度日常履职考核
// 事项完成情况自查表) as commands: the tasks, narratives and problems exactly
// as the importer plans them from the table, plus what a person reading the
// table would enter by hand: every quantitative figure as an indicator with
// its figure, the targets the text states or implies, the previous-year
// bases its 同比 statements imply, milestones and the rectification ledger.
//
// Nothing is invented: a figure carries the phrase of the table it comes
// from, a value the table does not print as such says how it follows from
// what it prints, and what the table does not say stays empty.
package demo
