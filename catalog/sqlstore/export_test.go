package sqlstore

// SetAnalyzeAfter lets external tests lower the number of changed entities
// past which a sync runs ANALYZE.
func SetAnalyzeAfter(s *Store, n int) { s.analyzeAfter = n }
