package drivers

import "time"

// Driver process states, as Status reports them.
const (
	// StateRunning: the process is up and answered a ping.
	StateRunning = "running"
	// StateUnhealthy: the process is up but did not answer a ping.
	StateUnhealthy = "unhealthy"
	// StateRestarting: the process exited or failed to start; the
	// supervisor tries again at NextAttempt.
	StateRestarting = "restarting"
	// StateIdle: the driver has not been started by this host yet, or was
	// stopped after its catalog entry changed. Drivers start on their
	// first call, so a registered driver nobody has called is idle.
	StateIdle = "idle"
)

// DriverStatus is one driver's process as this host's supervisor sees it.
// It is for operators: LastError may name paths and checksums.
type DriverStatus struct {
	State string `json:"state"`
	// Version is the running binary's driver version, when it ran.
	Version string `json:"version,omitempty"`
	PID     int    `json:"pid,omitempty"`
	// Starts counts launches that succeeded; Failures the consecutive
	// failures since the last one.
	Starts      int       `json:"starts"`
	Failures    int       `json:"failures"`
	LastError   string    `json:"last_error,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// Status reports every driver this supervisor has started or tried to
// start, by slug, pinging the running ones. A registered driver missing
// from the map has not been called on this host yet (StateIdle).
func (m *Manager) Status() map[string]DriverStatus {
	m.mu.Lock()
	procs := make([]*process, 0, len(m.procs))
	for _, p := range m.procs {
		procs = append(procs, p)
	}
	m.mu.Unlock()
	out := make(map[string]DriverStatus, len(procs))
	for _, p := range procs {
		p.mu.Lock()
		st := DriverStatus{State: StateIdle, Starts: p.started, Failures: p.failures, LastError: p.lastErr}
		cl, pc := p.cl, p.pc
		if p.desc != nil {
			st.Version = p.desc.DriverVersion
		}
		switch {
		case cl != nil && pc != nil && !pc.Exited():
			st.State = StateRunning
			if rc := pc.ReattachConfig(); rc != nil {
				st.PID = rc.Pid
			}
		case p.failures > 0:
			st.State = StateRestarting
			st.NextAttempt = p.nextTry.UTC()
		}
		p.mu.Unlock()
		if st.State == StateRunning && cl.Ping() != nil {
			st.State = StateUnhealthy
		}
		out[p.slug] = st
	}
	return out
}
