package catalog

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The patterns the byte loops in validate.go replaced, as Backstage's
// validators write them: the reference the loops are held to.
var (
	tagRE         = regexp.MustCompile(`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`)
	objectNameRE  = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dnsLabelRE    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	kindRE        = regexp.MustCompile(`^[a-zA-Z][a-z0-9A-Z]*$`)
	versionPartRE = regexp.MustCompile(`^[a-z0-9A-Z]+$`)
)

// refFormats are the validators as they were written with the patterns
// and strings.Split, by the name of the function that replaced each.
var refFormats = map[string]struct {
	old, new func(string) bool
}{
	"IsValidName":       {refName, IsValidName},
	"IsValidNamespace":  {refDNSLabel, IsValidNamespace},
	"IsValidTag":        {func(s string) bool { return len(s) >= 1 && len(s) <= 63 && tagRE.MatchString(s) }, IsValidTag},
	"isValidKind":       {func(s string) bool { return len(s) >= 1 && len(s) <= 63 && kindRE.MatchString(s) }, isValidKind},
	"isDNSSubdomain":    {refDNSSubdomain, isDNSSubdomain},
	"isValidAPIVersion": {refAPIVersion, isValidAPIVersion},
	"IsValidLabelKey":   {func(s string) bool { return refPrefixed(s, refDNSSubdomain, refName) }, IsValidLabelKey},
	"KnownKind":         {func(s string) bool { _, ok := refKnownKind(s); return ok }, func(s string) bool { _, ok := KnownKind(s); return ok }},
}

func refName(s string) bool { return len(s) >= 1 && len(s) <= 63 && objectNameRE.MatchString(s) }

func refDNSLabel(s string) bool { return len(s) >= 1 && len(s) <= 63 && dnsLabelRE.MatchString(s) }

func refDNSSubdomain(s string) bool {
	if len(s) < 1 || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !refDNSLabel(l) {
			return false
		}
	}
	return true
}

func refPrefixed(s string, prefix, suffix func(string) bool) bool {
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 1:
		return suffix(parts[0])
	case 2:
		return prefix(parts[0]) && suffix(parts[1])
	}
	return false
}

func refAPIVersion(s string) bool {
	return refPrefixed(s, refDNSSubdomain, func(n string) bool {
		return len(n) >= 1 && len(n) <= 63 && versionPartRE.MatchString(n)
	})
}

func refKnownKind(kind string) (string, bool) {
	for k := range kinds {
		if strings.EqualFold(k, kind) {
			return k, true
		}
	}
	return "", false
}

// formatAlphabet has a byte of every class the patterns tell apart, the
// separators, a slash, white space, multi-byte and invalid UTF-8, and the
// runes that fold to ASCII letters (Kelvin sign, long s).
var formatAlphabet = []string{"a", "z", "A", "Z", "0", "9", "k", "s", "-", "_", ".", ":", "+", "#", "/", " ", "\n", "é", "\u212a", "\u017f", "\xff", "\x00", "@"}

// formatInputs returns every string of up to three alphabet symbols,
// strings around the 63- and 253-byte limits with separators at either
// end, the known kinds in every case, and random strings made mostly of
// valid bytes so that long ones are sometimes valid.
func formatInputs() []string {
	in := []string{""}
	prev := []string{""}
	for range 3 {
		var next []string
		for _, p := range prev {
			for _, a := range formatAlphabet {
				next = append(next, p+a)
			}
		}
		in = append(in, next...)
		prev = next
	}
	for _, n := range []int{62, 63, 64, 65, 252, 253, 254} {
		for _, sep := range []string{"", "-", "_", ".", "/", "é"} {
			body := strings.Repeat("a", n-len(sep))
			in = append(in, body+sep, sep+body, strings.Repeat("a", n), strings.Repeat("a.", n/2), strings.Repeat("ab-", n/3))
		}
	}
	for k := range kinds {
		in = append(in, k, strings.ToLower(k), strings.ToUpper(k), strings.ReplaceAll(strings.ToLower(k), "s", "\u017f"), k+"s")
	}
	in = append(in, strings.Repeat("K", 40), "\u212aind", "backstage.io/v1alpha1", "scaffolder.backstage.io/v1beta3",
		"example.com/cost-center", "a/b/c", "/a", "a/", "a..b", ".a", "a.", "c++", "web:frontend", "a--b")
	rng := rand.New(rand.NewPCG(1, 2))
	valid := []string{"a", "b", "Q", "3", "-", ".", "/"}
	for range 200_000 {
		var b strings.Builder
		for n := rng.IntN(70); n > 0; n-- {
			if rng.IntN(8) == 0 {
				b.WriteString(formatAlphabet[rng.IntN(len(formatAlphabet))])
			} else {
				b.WriteString(valid[rng.IntN(len(valid))])
			}
		}
		in = append(in, b.String())
	}
	return in
}

// TestFormatsMatchRegexps holds each byte-loop validator to the regexp
// (and strings.Split) version it replaced, on every input formatInputs
// makes.
func TestFormatsMatchRegexps(t *testing.T) {
	in := formatInputs()
	for name, f := range refFormats {
		accepted := 0
		for _, s := range in {
			want := f.old(s)
			if got := f.new(s); got != want {
				t.Errorf("%s(%q) = %v, want %v (the regexp's answer)", name, s, got, want)
			}
			if want {
				accepted++
			}
		}
		// The inputs must exercise both answers, or the test proves little.
		if accepted == 0 || accepted == len(in) {
			t.Errorf("%s accepted %d of %d inputs; want some of each", name, accepted, len(in))
		}
	}
	for _, s := range in {
		wk, wok := refKnownKind(s)
		if k, ok := KnownKind(s); k != wk || ok != wok {
			t.Errorf("KnownKind(%q) = %q, %v, want %q, %v", s, k, ok, wk, wok)
		}
	}
}

// FuzzFormatsMatchRegexps is TestFormatsMatchRegexps on fuzzed input.
func FuzzFormatsMatchRegexps(f *testing.F) {
	for _, s := range []string{"", "a", "payments-api", "backstage.io/v1alpha1", "a--b", "é", "\u212aind", strings.Repeat("a", 63)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, fn := range refFormats {
			if got, want := fn.new(s), fn.old(s); got != want {
				t.Errorf("%s(%q) = %v, want %v (the regexp's answer)", name, s, got, want)
			}
		}
		wk, wok := refKnownKind(s)
		if k, ok := KnownKind(s); k != wk || ok != wok {
			t.Errorf("KnownKind(%q) = %q, %v, want %q, %v", s, k, ok, wk, wok)
		}
	})
}
