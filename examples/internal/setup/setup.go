// Package setup connects the examples to Zendesk when credentials are in
// the environment, and to an in-memory zendesktest server otherwise.
package setup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// Target is where an example runs.
type Target struct {
	Client   *zendesk.Client
	TicketID int64
	// Fake is the in-memory server, or nil against Zendesk.
	Fake *zendesktest.Server
}

// Close stops the fake server, if any.
func (t *Target) Close() {
	if t.Fake != nil {
		t.Fake.Close()
	}
}

// FromEnv reads ZENDESK_SUBDOMAIN, ZENDESK_EMAIL with ZENDESK_API_TOKEN (or
// ZENDESK_OAUTH_TOKEN) and ZENDESK_TICKET_ID. With none of them set it starts
// the fake server on loopback and says so on out.
func FromEnv(out io.Writer, opts ...zendesk.Option) (*Target, error) {
	sub := os.Getenv("ZENDESK_SUBDOMAIN")
	email, token, oauth := os.Getenv("ZENDESK_EMAIL"), os.Getenv("ZENDESK_API_TOKEN"), os.Getenv("ZENDESK_OAUTH_TOKEN")
	ticket := os.Getenv("ZENDESK_TICKET_ID")
	if sub == "" && email == "" && token == "" && oauth == "" && ticket == "" {
		const fakeTicket = 1
		srv := zendesktest.NewServer(zendesktest.WithTickets(fakeTicket))
		client := srv.Client(opts...)
		if client == nil {
			srv.Close()
			return nil, errors.New("could not build a client for the fake server")
		}
		fmt.Fprintf(out, "No ZENDESK_* variables set: using the in-memory zendesktest server at %s\n", srv.URL())
		return &Target{Client: client, TicketID: fakeTicket, Fake: srv}, nil
	}

	var creds zendesk.Credentials
	switch {
	case oauth != "":
		creds = zendesk.BearerToken(oauth)
	case email != "" && token != "":
		creds = zendesk.APIToken(email, token)
	default:
		return nil, errors.New("set ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN")
	}
	id, err := strconv.ParseInt(ticket, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("ZENDESK_TICKET_ID must be a ticket number, not %q", ticket)
	}
	client, err := zendesk.NewClient(sub, creds, opts...)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Using Zendesk at %s, ticket %d\n", client.BaseURL(), id)
	return &Target{Client: client, TicketID: id}, nil
}

// Getenv returns the variable or a default.
func Getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
