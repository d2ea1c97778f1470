package tekmetric

// Internals exposed to the external tekmetric_test package.
var Classify = classify

// SetWindowBudget makes ListRecent narrow windows holding more than n
// records, so tests can show narrowing on a few records; it returns the
// function that restores the budget.
func SetWindowBudget(n int) (restore func()) {
	old := windowBudget
	windowBudget = n
	return func() { windowBudget = old }
}
