package zendesk

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"golang.org/x/oauth2"
)

// Credentials authorize requests to Zendesk. The client calls Authorize once
// per attempt, and only for requests to its own base URL, so a redirect or a
// pagination link to another host never carries them.
//
// The values returned by APIToken, BearerToken and OAuth never reveal their
// secret: not through fmt verbs (%v, %+v, %#v, %s, ...), not through slog,
// and not when a struct holding them is printed field by field, because the
// secret lives in a closure that reflection cannot read.
type Credentials interface {
	Authorize(req *http.Request) error
}

// secret holds an Authorization header value, built once, out of reach of
// reflection-based printers.
type secret func() string

func newSecret(s string) secret { return func() string { return s } }

// fixedAuthorization is implemented by credentials whose Authorization
// value never changes, so the transport can set it without building it for
// every request.
type fixedAuthorization interface {
	authorization() (string, error)
}

const redacted = "[REDACTED]"

// APIToken returns credentials for Zendesk API token authentication: HTTP
// Basic with the user name "{email}/token" and the token as password.
//
// Zendesk turns API tokens off on 2027-04-30; move to OAuth before then.
func APIToken(email, token string) Credentials {
	raw := email + "/token:" + token
	return apiTokenCredentials{
		email:  email,
		header: newSecret("Basic " + base64.StdEncoding.EncodeToString([]byte(raw))),
		empty:  email == "" || token == "",
	}
}

type apiTokenCredentials struct {
	email  string
	header secret
	empty  bool
}

func (c apiTokenCredentials) Authorize(req *http.Request) error {
	v, err := c.authorization()
	if err != nil {
		return err
	}
	req.Header["Authorization"] = []string{v}
	return nil
}

func (c apiTokenCredentials) authorization() (string, error) {
	if c.empty {
		return "", errors.New("zendesk: API token credentials need an e-mail address and a token")
	}
	return c.header(), nil
}

func (c apiTokenCredentials) String() string {
	return "zendesk.APIToken(" + c.email + ", " + redacted + ")"
}
func (c apiTokenCredentials) GoString() string           { return c.String() }
func (c apiTokenCredentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }
func (c apiTokenCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", "api_token"), slog.String("email", c.email), slog.String("token", redacted))
}

// BearerToken returns credentials that send a fixed OAuth access token as
// "Authorization: Bearer {token}". For tokens that expire, use OAuth.
func BearerToken(accessToken string) Credentials {
	return bearerCredentials{header: newSecret("Bearer " + accessToken), empty: accessToken == ""}
}

type bearerCredentials struct {
	header secret
	empty  bool
}

func (c bearerCredentials) Authorize(req *http.Request) error {
	v, err := c.authorization()
	if err != nil {
		return err
	}
	req.Header["Authorization"] = []string{v}
	return nil
}

func (c bearerCredentials) authorization() (string, error) {
	if c.empty {
		return "", errors.New("zendesk: bearer credentials need an access token")
	}
	return c.header(), nil
}

func (c bearerCredentials) String() string             { return "zendesk.BearerToken(" + redacted + ")" }
func (c bearerCredentials) GoString() string           { return c.String() }
func (c bearerCredentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }
func (c bearerCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", "bearer"), slog.String("token", redacted))
}

// OAuth returns credentials that ask ts for an access token on every attempt,
// so a token refreshed by the source is used as soon as it exists. The source
// is wrapped in oauth2.ReuseTokenSource: a token is fetched again only when
// the current one expires.
func OAuth(ts oauth2.TokenSource) Credentials {
	if ts == nil {
		return oauthCredentials{}
	}
	return oauthCredentials{source: oauth2.ReuseTokenSource(nil, ts)}
}

type oauthCredentials struct {
	source oauth2.TokenSource
}

func (c oauthCredentials) Authorize(req *http.Request) error {
	if c.source == nil {
		return errors.New("zendesk: OAuth credentials need a token source")
	}
	tok, err := c.source.Token()
	if err != nil {
		return fmt.Errorf("zendesk: getting an OAuth access token: %w", err)
	}
	if tok.AccessToken == "" {
		return errors.New("zendesk: the OAuth token source returned an empty access token")
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return nil
}

func (c oauthCredentials) String() string             { return "zendesk.OAuth(" + redacted + ")" }
func (c oauthCredentials) GoString() string           { return c.String() }
func (c oauthCredentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }
func (c oauthCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", "oauth"), slog.String("token", redacted))
}
