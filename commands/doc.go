// Package commands is portalbot's transport-neutral command engine: it turns
// a Request (typed text, a button click, a form submission) into a Reply that
// each chat adapter renders in its own way. It holds the Router, its
// middleware, the catalog commands' handlers and the neutral Reply; the
// catalog they answer from is read through catalog/view, whose snapshots say
// how current they are.
//
// It must not know the chat platforms or the store: it never imports
// adapters/…, slack-go or discordgo, nor catalog/sqlstore (only the
// catalog.Store interface), and it keeps no index of the catalog of its own.
package commands
