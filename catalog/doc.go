// Package catalog models Backstage entities, the references between them and
// the relations derived from their spec fields, and declares the Store that
// keeps them.
package catalog
