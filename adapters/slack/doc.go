// Package slack translates between Slack (slack-go payloads over HTTP or
// Socket Mode) and the transport-neutral commands.Request and
// commands.Reply: it verifies and decodes slash commands, interactions and
// Events API callbacks, renders replies as Block Kit, and posts messages.
// Business rules live in package commands; this package only translates.
//
// slack-go is imported as slackgo to keep this package's name.
//
// It never imports another adapter, catalog/sqlstore or bot.
package slack
