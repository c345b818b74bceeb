//go:build race

package catalog_test

// raceEnabled reports a -race build, where the biggest inputs take minutes.
const raceEnabled = true
