package toast

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// restaurantPath is the restaurants API's read of one restaurant.
func restaurantPath(guid string) string {
	return provider.Path("restaurants", "v1", "restaurants", guid)
}

// restaurantInfo is the part of Toast's RestaurantInfo the driver reads.
type restaurantInfo struct {
	GUID    string `json:"guid"`
	General struct {
		Name     string `json:"name"`
		Archived bool   `json:"archived"`
	} `json:"general"`
}

// probe reads the connection's restaurant (GET
// /restaurants/v1/restaurants/{guid}), proving the token and the
// restaurant's access grant. Errors: CodeInvalid naming
// config.restaurant_guid when Toast knows no such restaurant (404), and
// those of send.
func (d *Driver) probe(ctx context.Context, conn sdk.Connection, tok, guid string) error {
	resp, err := d.send(ctx, conn, tok, guid, request{method: http.MethodGet, path: restaurantPath(guid)})
	if sdk.CodeOf(err) == sdk.CodeNotFound {
		return sdk.Invalid("config."+configRestaurant, "Toast knows no restaurant %s that this client can read (or it is archived): "+
			"check the GUID, and that the restaurant has granted the integration access", guid)
	}
	if err != nil {
		return err
	}
	var info restaurantInfo
	return resp.DecodeJSON(&info)
}

// TestConnection logs in (or reuses the connection's token) and reads the
// connection's restaurant. It answers OK with the restaurant GUID as the
// account id; a bad restaurant GUID, refused credentials, a restaurant
// Toast does not know or that has not granted access, and a token whose
// scopes lack orders:read or guest.pi:read are OK false with a reason an
// operator can act on. Other failures are errors (CodeRateLimited,
// CodeUnavailable).
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	var tok string
	guid, err := restaurant(conn)
	if err == nil {
		if tok, err = d.accessToken(ctx, conn); err == nil {
			err = d.probe(ctx, conn, tok, guid)
		}
	}
	if err == nil {
		if missing := missingScopes(tok); len(missing) > 0 {
			return sdk.TestResult{Reason: "the Toast client lacks the scope " + strings.Join(missing, " and ") + ": lookups read orders (orders:read), " +
				"and Toast leaves guests' phone and email out of them without guest.pi:read, so lookups by phone or email never match; ask Toast to grant it"}, nil
		}
		return sdk.TestResult{OK: true, AccountID: guid}, nil
	}
	var e *sdk.Error
	if errors.As(err, &e) && (e.Code == sdk.CodeAuth || e.Code == sdk.CodeInvalid) {
		reason := e.Message
		if e.Field != "" {
			reason = e.Field + ": " + reason
		}
		return sdk.TestResult{Reason: reason}, nil
	}
	return sdk.TestResult{}, err
}

// Authorize turns the connection's credentials (no code: Toast has only
// client credentials) into the secret to store: it logs in, reads the
// restaurant, and answers the connection's secret with the token and its
// expiry, and the restaurant GUID as the account id. Errors: CodeInvalid
// for a grant with a code, a restaurant GUID that is not one
// (config.restaurant_guid) or one Toast does not know, or missing
// credentials; CodeAuth for credentials Toast refuses or a restaurant
// that has not granted access; CodeRateLimited, CodeUnavailable.
func (d *Driver) Authorize(ctx context.Context, conn sdk.Connection, grant sdk.Grant) (sdk.Authorization, error) {
	if grant.Code != "" {
		return sdk.Authorization{}, sdk.Invalid("code", "Toast authenticates with client credentials; it has no authorization code to exchange")
	}
	guid, err := restaurant(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	c, err := clientOf(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	t := tokenOf(conn)
	if !t.fresh(d.now()) {
		if t, err = d.obtain(ctx, conn, c, false); err != nil {
			return sdk.Authorization{}, err
		}
	}
	if err := d.probe(ctx, conn, t.access, guid); err != nil {
		return sdk.Authorization{}, err
	}
	secret := maps.Clone(conn.Secret)
	if secret == nil {
		secret = map[string]string{}
	}
	for k, v := range secretOf(t) {
		if v == "" {
			delete(secret, k)
		} else {
			secret[k] = v
		}
	}
	return sdk.Authorization{Secret: secret, ExpiresAt: t.expires, AccountID: guid}, nil
}

// Refresh logs in anew (Toast has no refresh grant: a token is renewed by
// logging in with the client credentials again) and answers the new token
// and its expiry, to be merged into the stored secret. Errors: CodeInvalid
// for missing credentials, CodeAuth for refused ones, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	c, err := clientOf(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	t, err := d.obtain(ctx, conn, c, true)
	if err != nil {
		return sdk.Authorization{}, err
	}
	a := sdk.Authorization{Secret: secretOf(t), ExpiresAt: t.expires}
	if guid, err := restaurant(conn); err == nil {
		a.AccountID = guid
	}
	return a, nil
}

var (
	_ sdk.Authorizer = (*Driver)(nil)
	_ sdk.Refresher  = (*Driver)(nil)
)

// neededScopes are the scopes lookups need: orders, and the guests'
// personal information on them.
var neededScopes = []string{"orders:read", "guest.pi:read"}

// missingScopes returns the needed scopes tok lacks, judged from its JWT
// claims ("scope", space-separated, or "scopes", a list). A token that is
// not a JWT, or has neither claim, is not judged: Toast documents that the
// scopes live in the JWT but not the claim's name.
func missingScopes(tok string) []string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims struct {
		Scope  *string  `json:"scope"`
		Scopes []string `json:"scopes"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return nil
	}
	var have []string
	switch {
	case claims.Scope != nil:
		have = strings.Fields(*claims.Scope)
	case claims.Scopes != nil:
		have = claims.Scopes
	default:
		return nil
	}
	var missing []string
	for _, s := range neededScopes {
		if !slices.Contains(have, s) {
			missing = append(missing, s)
		}
	}
	return missing
}
