package catalog

import (
	"bytes"
	"fmt"
)

// Limits on a file's structure, checked before the YAML parser runs. The
// parser's node tree takes about 200 bytes per value, so a 10 MiB document
// of one-character list items ("[a,a,a,...]") would need a gigabyte; these
// bounds keep a file's cost near 50 MB whatever its shape, while real
// descriptors stay orders of magnitude below them.
const (
	// MaxDocumentValues bounds the YAML values (scalars, lists, mappings,
	// aliases) of one document, as estimated by counting the characters
	// that separate values outside block scalars. A Backstage descriptor,
	// even a Template with large parameter schemas, has a few thousand; a
	// multi-megabyte API definition written as a block scalar (definition: |)
	// is one value.
	MaxDocumentValues = 250_000
	// MaxDocuments bounds the documents of one file: a 10 MiB file of real
	// descriptors (a few hundred bytes each) holds some tens of thousands.
	MaxDocuments = 100_000
)

// CheckLimits reports the first way data goes past what ParseFile reads
// (MaxFileSize, text that is not YAML, MaxDocuments, MaxDocumentValues) as
// the line it concerns, 0 for the whole file, and a message; 0 and "" when
// there is none. It reads data once and decodes nothing, so a caller that
// decodes YAML itself (placeholder resolution) bounds its work as ParseFile
// does by calling it first.
func CheckLimits(data []byte) (line int, msg string) {
	if len(data) > MaxFileSize {
		return 0, fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20)
	}
	if line, msg := checkText(data); msg != "" {
		return line, msg
	}
	return checkStructure(data)
}

// checkStructure splits data at document markers ("---" or "..." at the
// start of a line, which YAML forbids inside any scalar) and checks each
// document against MaxDocumentValues and the file against MaxDocuments. It
// returns the line of the offending document and a message, or 0 and "".
func checkStructure(data []byte) (int, string) {
	docs := 0
	docLine := 1
	values := 0
	// blockIndent is the indentation of the line that opened the block
	// scalar being skipped, or -1 outside block scalars.
	blockIndent := -1
	line := 0
	for len(data) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		if isDocumentMarker(l) {
			docs++
			if docs > MaxDocuments {
				return line, fmt.Sprintf("more than %d YAML documents in one file", MaxDocuments)
			}
			docLine, values, blockIndent = line, 0, -1
			l = l[3:]
		}
		trimmed := bytes.TrimLeft(l, " ")
		indent := len(l) - len(trimmed)
		if blockIndent >= 0 {
			if len(bytes.TrimSpace(trimmed)) == 0 || indent > blockIndent {
				continue // inside the block scalar
			}
			blockIndent = -1
		}
		values++ // a line holds at least one value when it holds anything
		for _, c := range trimmed {
			switch c {
			case ',', ':', '-', '[', '{', '?', '*':
				values++
			}
		}
		if values > MaxDocumentValues {
			return docLine, fmt.Sprintf("document too large: more than %d YAML values", MaxDocumentValues)
		}
		if opensBlockScalar(trimmed) {
			blockIndent = indent
		}
	}
	return 0, ""
}

// isDocumentMarker reports whether a line starts with "---" or "..."
// followed by white space or nothing.
func isDocumentMarker(l []byte) bool {
	if len(l) < 3 || !(bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("..."))) {
		return false
	}
	return len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r'
}

// opensBlockScalar reports whether a line ends with a block scalar header,
// "|" or ">" with optional chomping and indentation indicators, possibly
// followed by a comment.
func opensBlockScalar(l []byte) bool {
	if i := bytes.Index(l, []byte(" #")); i >= 0 {
		l = l[:i]
	}
	l = bytes.TrimRight(l, " \t\r")
	j := len(l)
	for j > 0 && (l[j-1] == '-' || l[j-1] == '+' || (l[j-1] >= '1' && l[j-1] <= '9')) && len(l)-j < 2 {
		j--
	}
	if j == 0 || (l[j-1] != '|' && l[j-1] != '>') {
		return false
	}
	return j == 1 || l[j-2] == ' ' || l[j-2] == '\t'
}
