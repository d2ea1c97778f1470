package outbound

import (
	"context"
	"fmt"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/secrets"
)

// SaveRule creates (id empty, expect 0) or updates (expect: the version
// read) a trigger rule after checking it against the tenant's mapping:
// every condition's field must be mapped (a trigger or read mapping), or
// the rule is refused, since it could never match. The save is audited.
// Errors: CodeInvalid naming the field, CodeNotFound, CodeConflict,
// CodeNotConnected.
func (s *Service) SaveRule(ctx context.Context, a broker.Actor, r host.TriggerRule, expect int) (host.TriggerRule, error) {
	r.Purpose = host.ParsePurpose(string(r.Purpose))
	r.UpdatedBy, r.UpdatedAt = a.ID, s.now()
	if err := r.Validate(); err != nil {
		return host.TriggerRule{}, err
	}
	if len(r.Conditions) > 0 {
		m, _, err := s.CRM.Mapping(ctx, r.TenantID)
		if err != nil {
			return host.TriggerRule{}, err
		}
		for i, c := range r.Conditions {
			if !Mapped(m, c.Field) {
				return host.TriggerRule{}, &host.Error{Code: host.CodeInvalid, Field: fmt.Sprintf("conditions[%d].field", i), Message: fmt.Sprintf(
					"%q is not mapped for this tenant: add a trigger mapping (PUT .../mappings/trigger/%s) or a read mapping first", c.Field, c.Field)}
			}
		}
	}
	out, err := s.store.PutTriggerRule(ctx, r, expect)
	outcome := host.OutcomeOK
	if err != nil {
		outcome = host.OutcomeError
	}
	s.CRM.Audit(ctx, a, r.TenantID, "trigger_rule.save", outcome, fmt.Sprintf("%s v%d enabled=%t purpose=%s", out.ID, out.Version, out.Enabled, out.Purpose))
	return out, err
}

// DeleteRule deletes a rule (a last, deleted version; its history stays).
// Errors: CodeNotFound, CodeConflict.
func (s *Service) DeleteRule(ctx context.Context, a broker.Actor, tenantID, id string) error {
	cur, err := s.store.GetTriggerRule(ctx, tenantID, id)
	if err == nil && cur.Deleted {
		err = host.NotFound("trigger rule %q not found", id)
	}
	if err != nil {
		return err
	}
	cur.Deleted, cur.Enabled, cur.UpdatedBy, cur.UpdatedAt = true, false, a.ID, s.now()
	_, err = s.store.PutTriggerRule(ctx, cur, cur.Version)
	if err == nil {
		s.CRM.Audit(ctx, a, tenantID, "trigger_rule.delete", host.OutcomeOK, id)
	}
	return err
}

// SettingsInput edits a tenant's outbound settings.
type SettingsInput struct {
	Enabled      bool   `json:"enabled"`
	SellerName   string `json:"seller_name"`
	CallbackURL  string `json:"callback_url"`
	RotateSecret bool   `json:"rotate_secret"`
}

// PutSettings stores the tenant's settings; a signing secret is made on
// the first save (or when asked to rotate) and returned that once, never
// again. Audited. Errors: CodeInvalid, CodeNotFound.
func (s *Service) PutSettings(ctx context.Context, a broker.Actor, tenantID string, in SettingsInput) (host.OutboundSettings, string, error) {
	cur, err := s.store.GetOutboundSettings(ctx, tenantID)
	if err != nil && host.CodeOf(err) != host.CodeNotFound {
		return host.OutboundSettings{}, "", err
	}
	next := host.OutboundSettings{TenantID: tenantID, Enabled: in.Enabled, SellerName: strings.TrimSpace(in.SellerName), CallbackURL: strings.TrimSpace(in.CallbackURL),
		SecretCiphertext: cur.SecretCiphertext, SecretWrappedDEK: cur.SecretWrappedDEK, SecretKEKID: cur.SecretKEKID}
	if err := next.Validate(); err != nil {
		return host.OutboundSettings{}, "", err
	}
	secret := ""
	if len(cur.SecretCiphertext) == 0 || in.RotateSecret {
		secret = NewSigningSecret()
		sealed, err := secrets.SealJSON(ctx, s.keyring, secret, SecretAAD(tenantID))
		if err != nil {
			return host.OutboundSettings{}, "", err
		}
		next.SecretCiphertext, next.SecretWrappedDEK, next.SecretKEKID = sealed.Ciphertext, sealed.WrappedDEK, sealed.KEKID
	}
	out, err := s.store.PutOutboundSettings(ctx, next)
	if err != nil {
		return host.OutboundSettings{}, "", err
	}
	s.CRM.Audit(ctx, a, tenantID, "outbound.settings", host.OutcomeOK, fmt.Sprintf("enabled=%t secret_rotated=%t", out.Enabled, secret != ""))
	return out, secret, nil
}

// CreateConsent stores a consent record, its phone normalised to E.164
// (kept as entered too). Audited. Errors: CodeInvalid, CodeNotFound.
func (s *Service) CreateConsent(ctx context.Context, a broker.Actor, c host.ConsentRecord) (host.ConsentRecord, error) {
	phone, err := NormalizePhone("phone", c.Phone)
	if err != nil {
		return host.ConsentRecord{}, err
	}
	if c.PhoneAsEntered == "" {
		c.PhoneAsEntered = c.Phone
	}
	c.Phone, c.ID = phone, ""
	out, err := s.store.CreateConsent(ctx, c)
	if err != nil {
		return out, err
	}
	s.CRM.Audit(ctx, a, c.TenantID, "consent.create", host.OutcomeOK, fmt.Sprintf("%s purposes=%v ai_voice=%t written=%t", out.ID, out.Purposes, out.AIVoice, out.Written))
	return out, nil
}

// RevokeInput is a revocation by any channel.
type RevokeInput struct {
	Phone   string `json:"phone"`
	Channel string `json:"channel"`
	RawText string `json:"raw_text"`
}

// Revoke applies a revocation at once: every consent for the number is
// revoked and the number goes on the internal do-not-call list, so no
// automated call from the seller reaches it. Audited. Errors:
// CodeInvalid, CodeNotFound (tenant).
func (s *Service) Revoke(ctx context.Context, a broker.Actor, tenantID string, in RevokeInput) ([]host.ConsentRecord, error) {
	phone, err := NormalizePhone("phone", in.Phone)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Channel) == "" {
		return nil, &host.Error{Code: host.CodeInvalid, Field: "channel", Message: "is required (call, sms, email, web, operator...)"}
	}
	out, err := s.store.RevokePhone(ctx, tenantID, phone, host.Revocation{Channel: strings.TrimSpace(in.Channel), RawText: in.RawText, ReceivedAt: s.now()})
	if err != nil {
		return nil, err
	}
	s.CRM.Audit(ctx, a, tenantID, "consent.revoke", host.OutcomeOK, fmt.Sprintf("%d records revoked via %s; number on the do-not-call list", len(out), in.Channel))
	return out, nil
}

// PutScrub records the platform's DNC scrub of a number. Errors:
// CodeInvalid, CodeNotFound.
func (s *Service) PutScrub(ctx context.Context, a broker.Actor, sc host.DNCScrub) (host.DNCScrub, error) {
	phone, err := NormalizePhone("phone", sc.Phone)
	if err != nil {
		return host.DNCScrub{}, err
	}
	switch sc.Reassigned {
	case "", host.ReassignedYes, host.ReassignedNo, host.ReassignedNoData:
	default:
		return host.DNCScrub{}, &host.Error{Code: host.CodeInvalid, Field: "reassigned", Message: "is one of reassigned, not_reassigned, no_data"}
	}
	sc.Phone, sc.ScrubbedAt = phone, s.now()
	return s.store.PutDNCScrub(ctx, sc)
}

// AckCall marks a pulled call request delivered. Errors: CodeNotFound,
// CodeConflict when it is no longer pending.
func (s *Service) AckCall(ctx context.Context, tenantID, id string) (host.CallRequest, error) {
	return s.store.SettleCallRequest(ctx, tenantID, id, host.CallDelivered, "")
}
