// Package bot wires portalbot together: configuration, the subcommands of
// the portalbot binary, the HTTP server, the chat adapters and the scheduler.
//
// It is the one package that imports everything (adapters, stores, jobs,
// scaffolder); nothing but main imports it, and it holds no business rule
// of its own: those live in commands, scaffolder and catalog/….
package bot
