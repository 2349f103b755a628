package zdsc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode"

	zendesk "github.com/sideconv/zendesk"
)

// The environment variables zdsc reads, as the SDK's examples do.
const (
	envSubdomain  = "ZENDESK_SUBDOMAIN"
	envEmail      = "ZENDESK_EMAIL"
	envAPIToken   = "ZENDESK_API_TOKEN"   //nolint:gosec // the variable's name, not a credential
	envOAuthToken = "ZENDESK_OAUTH_TOKEN" //nolint:gosec // the variable's name, not a credential
	envBaseURL    = "ZENDESK_BASE_URL"
)

// setting is a flag's value when it was given, else the variable's.
func (a *app) setting(flagName, value, envName string) string {
	if a.g.given[flagName] {
		return value
	}
	return strings.TrimSpace(a.getenv(envName))
}

// client returns a client for the account the flags and the environment
// name, or for the demo server with --demo. It sends nothing.
func (a *app) client(ctx context.Context) (*zendesk.Client, error) {
	opts := []zendesk.Option{zendesk.WithUserAgent("zdsc/" + zendesk.Version)}
	if a.g.debug {
		a.logger = slog.New(slog.NewTextHandler(a.env.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		opts = append(opts, zendesk.WithLogger(a.logger))
	}
	if a.g.demo {
		srv, err := startDemo(ctx)
		if err != nil {
			return nil, fmt.Errorf("starting the demo account: %w", err)
		}
		a.closers = append(a.closers, srv.Close)
		if a.env.StderrTerminal {
			fmt.Fprintln(a.env.Stderr, "zdsc: the demo account, an in-memory Zendesk made afresh for each command: nothing leaves this machine")
		}
		creds := srv.Credentials()
		c, err := zendesk.NewClient("", creds, append(opts, zendesk.WithBaseURL(srv.URL()))...)
		if err != nil {
			return nil, err
		}
		a.debugAccount(ctx, c, creds)
		return c, nil
	}

	sub := a.setting("subdomain", a.g.subdomain, envSubdomain)
	base := a.setting("base-url", a.g.baseURL, envBaseURL)
	creds, err := a.credentials()
	if err != nil {
		return nil, err
	}
	if creds == nil {
		if sub == "" && base == "" {
			return nil, usagef(a.cmd, "no Zendesk account configured: set %s with %s and %s (or %s), or try --demo",
				envSubdomain, envEmail, envAPIToken, envOAuthToken)
		}
		return nil, usagef(a.cmd, "no credentials: set %s and %s (or %s)", envEmail, envAPIToken, envOAuthToken)
	}
	switch {
	case sub == "" && base == "":
		return nil, usagef(a.cmd, "no account: set %s (or --subdomain), such as acme for acme.zendesk.com", envSubdomain)
	case strings.Contains(sub, "."):
		return nil, usagef(a.cmd, "--subdomain/%s: give the account's name, such as acme for acme.zendesk.com, not %q", envSubdomain, sub)
	}
	if base != "" {
		opts = append(opts, zendesk.WithBaseURL(base))
	}
	c, err := zendesk.NewClient(sub, creds, opts...)
	if err != nil {
		return nil, usagef(a.cmd, "%v", err)
	}
	a.debugAccount(ctx, c, creds)
	return c, nil
}

// credentials picks the credentials: a credential flag wins over the
// environment; in the environment an OAuth token wins over an API token.
// It returns nil, nil when none are configured.
func (a *app) credentials() (zendesk.Credentials, error) {
	given := a.g.given
	if given["oauth-token"] && given["token"] {
		return nil, usagef(a.cmd, "--oauth-token and --token exclude each other")
	}
	email := a.setting("email", a.g.email, envEmail)
	apiToken := a.setting("token", a.g.token, envAPIToken)
	oauth := a.setting("oauth-token", a.g.oauthToken, envOAuthToken)
	useOAuth := given["oauth-token"] || (!given["token"] && !given["email"] && oauth != "")
	switch {
	case useOAuth && oauth == "":
		return nil, usagef(a.cmd, "--oauth-token is empty")
	case useOAuth:
		if err := a.checkCredential(oauth, "oauth-token", envOAuthToken); err != nil {
			return nil, err
		}
		return zendesk.BearerToken(oauth), nil
	case apiToken != "" && email == "":
		return nil, usagef(a.cmd, "an API token needs the agent's e-mail address: set %s (or --email)", envEmail)
	case apiToken == "" && email != "":
		return nil, usagef(a.cmd, "%s (or --email) is set but no API token: set %s (or %s)", envEmail, envAPIToken, envOAuthToken)
	case apiToken != "":
		if err := a.checkCredential(email, "email", envEmail); err != nil {
			return nil, err
		}
		if err := a.checkCredential(apiToken, "token", envAPIToken); err != nil {
			return nil, err
		}
		return zendesk.APIToken(email, apiToken), nil
	}
	return nil, nil
}

// checkCredential refuses a credential with a control character, such as
// a line break pasted with a token: no header can carry it (a Bearer token
// would fail on every retry; an API token would be sent, base64-encoded,
// and refused). The error names the flag, or else the variable, the value
// came from, never the value.
func (a *app) checkCredential(value, flagName, envName string) error {
	if strings.IndexFunc(value, unicode.IsControl) < 0 {
		return nil
	}
	source := envName
	if a.g.given[flagName] {
		source = "--" + flagName
	}
	return usagef(a.cmd, "%s holds a control character (such as a line break): set it again without it", source)
}

// debugAccount logs where requests go and with which kind of credentials;
// the credentials log themselves without their secret.
func (a *app) debugAccount(ctx context.Context, c *zendesk.Client, creds zendesk.Credentials) {
	if a.logger == nil {
		return
	}
	a.logger.LogAttrs(ctx, slog.LevelDebug, "zdsc account",
		slog.String("command", a.cmd.name),
		slog.String("base_url", c.BaseURL().String()),
		slog.Bool("demo", a.g.demo),
		slog.Any("credentials", creds))
}
