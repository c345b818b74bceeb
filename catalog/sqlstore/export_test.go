package sqlstore

// SetAnalyzeAfter lets external tests lower the number of changed entities
// past which a sync runs ANALYZE.
func SetAnalyzeAfter(s *Store, n int) { s.analyzeAfter = n }

// SetChangeLogLimits lets external tests lower the rows one sync logs
// before it marks the log incomplete, and the generations it keeps; 0
// keeps the default.
func SetChangeLogLimits(s *Store, max, keep int) { s.logMax, s.logKeep = max, keep }
