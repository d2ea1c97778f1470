package mapping_test

import (
	"errors"
	"strings"

	"crmhost.dev/host"
)

func asHost(err error, target **host.Error) bool { return errors.As(err, target) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
