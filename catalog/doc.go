// Package catalog models Backstage entities, the references between them and
// the relations derived from their spec fields, and declares the Store that
// keeps them.
//
// It is the lowest layer: it never imports its implementation
// (catalog/sqlstore), what reads it (catalog/view, commands, scaffolder,
// adapters/…, bot), a database driver or a chat SDK.
package catalog
