package fake

// demoClients are the clients Start puts into each site, so a developer in
// dev mode has someone to look up.
var demoClients = []map[string]any{
	{"FirstName": "Grace", "LastName": "Hopper", "Email": "grace.hopper@example.com", "MobilePhone": "(415) 555-0101"},
	{"FirstName": "Katherine", "LastName": "Johnson", "Email": "katherine.johnson@example.com", "HomePhone": "415.555.0102"},
	{"FirstName": "Margaret", "LastName": "Hamilton", "Email": "margaret.hamilton@example.com", "MobilePhone": "+1 415 555 0103", "IsProspect": true},
}

// seedDemo stores the demo clients in every site.
func (s *Server) seedDemo() {
	for _, id := range []int{SiteA, SiteB, SandboxSite} {
		for _, c := range demoClients {
			s.PutClient(id, c)
		}
	}
}
