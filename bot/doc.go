// Package bot wires portalbot together: configuration, the subcommands of
// the portalbot binary, the HTTP server, the chat adapters and the scheduler.
package bot
