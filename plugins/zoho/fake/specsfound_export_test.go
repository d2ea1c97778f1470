package fake

// SpecsFound reports whether the specs are where the fake looks for them
// (an error wrapping providertest.ErrNoSpecs when they are not).
func SpecsFound() error {
	_, err := findSpecDir()
	return err
}
