// Package scaffolder launches Backstage Software Templates from chat: it turns
// a Template entity's spec.parameters into commands.Form steps, validates the
// submitted values the way Backstage's form does, checks who may launch, and
// launches through a Backstage scaffolder or the built-in runner, recording
// every launch for audit.
//
// It answers through commands' neutral Reply and Form and reads the
// catalog through catalog.Store and catalog/view: it never imports
// adapters/…, catalog/sqlstore or bot.
package scaffolder
