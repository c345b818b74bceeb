package commands

// DriftSource computes drift findings. (Filled in by the drift-reports work.)
type DriftSource interface{}

func registerDrift(r *Router, p Params) {}
