package mapping

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// Mapping is one tenant's resolved mapping for one driver.
type Mapping struct {
	desc    sdk.Description
	objects map[string]string            // canonical object -> provider object
	read    map[string]map[string]string // canonical object -> short key -> provider path
	write   map[string]map[string]string
	trigger map[string]string
}

// Resolve combines the driver's defaults with the tenant's overrides.
// Override keys are full canonical keys ("lead.budget_max"), except object
// overrides, whose key is the canonical object ("lead").
func Resolve(desc sdk.Description, overrides []host.FieldMapping) *Mapping {
	m := &Mapping{desc: desc, objects: map[string]string{}, read: map[string]map[string]string{},
		write: map[string]map[string]string{}, trigger: map[string]string{}}
	for _, o := range desc.Objects {
		canon := o.Canonical
		if canon == "" {
			canon = o.Name
		}
		if _, taken := m.objects[canon]; !taken {
			m.objects[canon] = o.Name
		}
		for key, target := range o.DefaultFields {
			obj, short, ok := split(key)
			if !ok {
				continue
			}
			put(m.read, obj, short, target)
			put(m.write, obj, short, target)
		}
	}
	for _, o := range overrides {
		switch o.Kind {
		case host.MappingObject:
			m.objects[o.Key] = o.Target
		case host.MappingTrigger:
			m.trigger[o.Key] = o.Target
		case host.MappingRead, host.MappingWrite:
			obj, short, ok := split(o.Key)
			if !ok {
				continue
			}
			if o.Kind == host.MappingRead {
				put(m.read, obj, short, o.Target)
			} else {
				put(m.write, obj, short, o.Target)
			}
		}
	}
	return m
}

func split(key string) (obj, short string, ok bool) {
	obj, short, ok = strings.Cut(key, ".")
	return obj, short, ok && obj != "" && short != ""
}

func put(m map[string]map[string]string, obj, short, target string) {
	if m[obj] == nil {
		m[obj] = map[string]string{}
	}
	m[obj][short] = target
}

// Object returns the provider object serving a canonical object. A
// provider-native object name passes through unchanged. Errors: CodeInvalid
// naming "object".
func (m *Mapping) Object(canonical string) (string, error) {
	if canonical == "" {
		return "", &host.Error{Code: host.CodeInvalid, Field: "object", Message: "is required"}
	}
	if p, ok := m.objects[canonical]; ok {
		return p, nil
	}
	if _, ok := m.desc.Object(canonical); ok {
		return canonical, nil
	}
	return "", &host.Error{Code: host.CodeInvalid, Field: "object", Message: fmt.Sprintf(
		"%q is not an object of this connection (known: %s)", canonical, strings.Join(m.Objects(), ", "))}
}

// Objects lists the canonical objects the mapping knows, sorted.
func (m *Mapping) Objects() []string {
	out := make([]string, 0, len(m.objects))
	for k := range m.objects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Canonical returns the canonical name of a provider object (the reverse of
// Object), or the provider name when none maps to it.
func (m *Mapping) Canonical(provider string) string {
	best := ""
	for c, p := range m.objects {
		if p == provider && (best == "" || c < best) {
			best = c
		}
	}
	if best == "" {
		return provider
	}
	return best
}

// Write translates canonical fields of a canonical object into provider
// fields. Keys may be short ("budget_max") or full ("lead.budget_max").
// Dotted targets build nested objects. Errors: CodeInvalid naming the
// first unmapped key as the caller sent it ("fields.budget_max") and
// listing every unmapped key in the message.
func (m *Mapping) Write(object string, fields map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	var unknown, sent []string
	for key, v := range fields {
		short := strings.TrimPrefix(key, object+".")
		target, ok := m.write[object][short]
		if !ok {
			unknown = append(unknown, object+"."+short)
			sent = append(sent, key)
			continue
		}
		setPath(out, target, v)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		sort.Strings(sent)
		return nil, &host.Error{Code: host.CodeInvalid, Field: "fields." + sent[0], Message: fmt.Sprintf(
			"no field mapping for %s (known: %s); an operator can add one under the tenant's mappings",
			strings.Join(unknown, ", "), strings.Join(m.Keys(object), ", "))}
	}
	return out, nil
}

// ReadFields lists the provider field paths the read mapping of object
// needs, sorted: drivers read them besides their defaults, so a mapped
// custom field comes back without more configuration.
func (m *Mapping) ReadFields(object string) []string {
	out := make([]string, 0, len(m.read[object]))
	for _, target := range m.read[object] {
		if !slices.Contains(out, target) {
			out = append(out, target)
		}
	}
	sort.Strings(out)
	return out
}

// CanonicalField returns the canonical short key ("budget_max") the write
// mapping of object sends to the provider field (a path such as
// "properties.budget__c", or its first or last segment as a provider may
// name it in an error), or false.
func (m *Mapping) CanonicalField(object, provider string) (string, bool) {
	best := ""
	for short, target := range m.write[object] {
		first, _, _ := strings.Cut(target, ".")
		last := target[strings.LastIndex(target, ".")+1:]
		if (target == provider || first == provider || last == provider) && (best == "" || short < best) {
			best = short
		}
	}
	return best, best != ""
}

// Read translates a provider record's fields into the canonical fields of
// object; provider fields without a mapping are left out (they stay in
// the record's native fields).
func (m *Mapping) Read(object string, native map[string]any) map[string]any {
	out := map[string]any{}
	for short, target := range m.read[object] {
		if v, ok := getPath(native, target); ok {
			out[short] = v
		}
	}
	return out
}

// Keys lists the full canonical keys writable on object, sorted.
func (m *Mapping) Keys(object string) []string {
	out := make([]string, 0, len(m.write[object]))
	for short := range m.write[object] {
		out = append(out, object+"."+short)
	}
	sort.Strings(out)
	return out
}

// Field returns the provider field path for a canonical key on reads, e.g.
// to find which provider field holds "customer.phone".
func (m *Mapping) Field(object, short string) (string, bool) {
	t, ok := m.read[object][short]
	return t, ok
}

// Trigger returns the target of a trigger mapping.
func (m *Mapping) Trigger(name string) (string, bool) {
	t, ok := m.trigger[name]
	return t, ok
}

// Effective lists every resolved entry (defaults and overrides) as
// FieldMappings for display, sorted by kind and key.
func (m *Mapping) Effective(tenantID string) []host.FieldMapping {
	var out []host.FieldMapping
	for c, p := range m.objects {
		out = append(out, host.FieldMapping{TenantID: tenantID, Kind: host.MappingObject, Key: c, Target: p})
	}
	for kind, src := range map[host.MappingKind]map[string]map[string]string{host.MappingRead: m.read, host.MappingWrite: m.write} {
		for obj, fs := range src {
			for short, t := range fs {
				out = append(out, host.FieldMapping{TenantID: tenantID, Kind: kind, Key: obj + "." + short, Target: t})
			}
		}
	}
	for k, t := range m.trigger {
		out = append(out, host.FieldMapping{TenantID: tenantID, Kind: host.MappingTrigger, Key: k, Target: t})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func setPath(dst map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := dst[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			dst[p] = next
		}
		dst = next
	}
	dst[parts[len(parts)-1]] = v
}

func getPath(src map[string]any, path string) (any, bool) {
	if v, ok := src[path]; ok {
		return v, true
	}
	parts := strings.Split(path, ".")
	var cur any = src
	for _, p := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// ValidateOverride checks an override against the driver: its key must be
// canonical ("object.key", or a canonical object for object overrides) and
// an object override must name a provider object. Errors: CodeInvalid.
func ValidateOverride(desc sdk.Description, o host.FieldMapping) error {
	if err := o.Validate(); err != nil {
		return err
	}
	switch o.Kind {
	case host.MappingObject:
		if strings.Contains(o.Key, ".") {
			return &host.Error{Code: host.CodeInvalid, Field: "key", Message: "an object mapping's key is a canonical object such as \"lead\""}
		}
		if _, ok := desc.Object(o.Target); !ok {
			return &host.Error{Code: host.CodeInvalid, Field: "target", Message: fmt.Sprintf("%q is not an object of %s", o.Target, desc.Slug)}
		}
	case host.MappingRead, host.MappingWrite:
		if _, _, ok := split(o.Key); !ok {
			return &host.Error{Code: host.CodeInvalid, Field: "key", Message: fmt.Sprintf("%q is not a canonical key such as \"lead.budget_max\"", o.Key)}
		}
	}
	return nil
}
