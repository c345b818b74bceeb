// Package commands is portalbot's transport-neutral command engine: it turns
// a Request (typed text, a button click, a form submission) into a Reply that
// each chat adapter renders in its own way.
package commands
