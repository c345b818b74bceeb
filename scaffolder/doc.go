// Package scaffolder launches Backstage Software Templates from chat: it turns
// a Template entity's spec.parameters into commands.Form steps, validates the
// submitted values the way Backstage's form does, checks who may launch, and
// launches through a Backstage scaffolder or the built-in runner, recording
// every launch for audit.
package scaffolder
