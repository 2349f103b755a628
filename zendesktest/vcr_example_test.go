package zendesktest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/jarcoal/httpmock"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

func ExampleVCR() {
	dir, err := os.MkdirTemp("", "cassettes")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = os.RemoveAll(dir) }()
	name := filepath.Join(dir, "create") // the cassette is create.yaml
	ctx := context.Background()
	create := func(c *zendesk.Client) {
		res, _, err := c.SideConversations.Create(ctx, 42, zendesk.CreateRequest{Message: zendesk.Message{
			Subject: "Invoice 1042",
			Body:    "Could you check it?",
			To:      []zendesk.Participant{zendesk.Email("bob@partner-corp.com")},
		}})
		if err != nil {
			fmt.Println(err)
			return
		}
		sc := res.SideConversation
		fmt.Println(sc.Subject, sc.State, sc.Participants[1].Email)
	}

	// Record. Against Zendesk the client is
	// zendesk.NewClient("acme", creds, zendesk.WithHTTPClient(...)).
	srv := zendesktest.NewServer(zendesktest.WithTickets(42), zendesktest.WithCredentials("jane.doe@acme-corp.com", "s3cr3t-token"))
	defer srv.Close()
	rec, err := recorder.New(name, zendesktest.VCR(), recorder.WithMode(recorder.ModeRecordOnly))
	if err != nil {
		fmt.Println(err)
		return
	}
	create(srv.Client(zendesk.WithHTTPClient(&http.Client{Transport: rec})))
	if err := rec.Stop(); err != nil {
		fmt.Println(err)
		return
	}
	saved, err := os.ReadFile(name + ".yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	var found []string
	for _, secret := range []string{"acme-corp", "s3cr3t-token", "partner-corp", srv.URL()} {
		found = append(found, fmt.Sprint(strings.Contains(string(saved), secret)))
	}
	fmt.Println(strings.Join(found, " "))

	// Replay: no server, no network, the same answers.
	replay, err := recorder.New(name, zendesktest.VCR(), recorder.WithMode(recorder.ModeReplayOnly))
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := zendesk.NewClient("example", zendesk.APIToken("anyone@example.com", "unused"),
		zendesk.WithHTTPClient(&http.Client{Transport: replay}), zendesk.WithoutRetries())
	if err != nil {
		fmt.Println(err)
		return
	}
	create(client)
	_, _, err = client.SideConversations.List(ctx, 42, nil)
	fmt.Println("a call the cassette does not hold:", errors.Is(err, cassette.ErrInteractionNotFound))
	// Output:
	// Invoice 1042 open user1@example.com
	// false false false false
	// Invoice 1042 open user1@example.com
	// a call the cassette does not hold: true
}

func ExampleScrub() {
	dir, err := os.MkdirTemp("", "cassettes")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = os.RemoveAll(dir) }()
	name := filepath.Join(dir, "reply")

	srv := zendesktest.NewServer(zendesktest.WithTickets(42))
	defer srv.Close()
	seeded, _, err := srv.Client().SideConversations.Create(context.Background(), 42, zendesk.CreateRequest{Message: zendesk.Message{
		Body: "Hello", To: []zendesk.Participant{zendesk.Email("billing@example.com")},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Your own recorder, with your own mode and matcher: one option adds
	// the scrubbing.
	rec, err := recorder.New(name, zendesktest.Scrub(zendesktest.ScrubString("Acme Corp", "Example Co")),
		recorder.WithMode(recorder.ModeRecordOnly), recorder.WithMatcher(zendesktest.Matcher()))
	if err != nil {
		fmt.Println(err)
		return
	}
	client := srv.Client(zendesk.WithHTTPClient(&http.Client{Transport: rec}))
	if _, _, err := client.SideConversations.Reply(context.Background(), 42, seeded.SideConversation.ID, zendesk.ReplyRequest{
		Message: zendesk.Message{
			Body: "Acme Corp's Jane here: please write to jane.doe@acme-corp.com",
			To:   []zendesk.Participant{zendesk.NamedEmail("sam@partner-corp.com", "Sam Billing")},
		},
	}); err != nil {
		fmt.Println(err)
		return
	}
	if err := rec.Stop(); err != nil {
		fmt.Println(err)
		return
	}
	cas, err := cassette.Load(name)
	if err != nil {
		fmt.Println(err)
		return
	}
	req := cas.Interactions[0].Request
	fmt.Println(req.Method, req.URL)
	fmt.Print(req.Body)
	// Output:
	// POST https://example.zendesk.com/api/v2/tickets/42/side_conversations/5c000000-0000-4000-8000-000000000001/reply
	// {
	//   "message": {
	//     "body": "Example Co's Jane here: please write to user1@example.com",
	//     "to": [
	//       {
	//         "email": "user2@example.com",
	//         "name": "Person 1"
	//       }
	//     ]
	//   }
	// }
}

func ExampleRegisterCassette() {
	cas, err := cassette.Load("../testdata/cassettes/show")
	if err != nil {
		fmt.Println(err)
		return
	}
	mt := httpmock.NewMockTransport()
	if err := zendesktest.RegisterCassette(mt, cas, "https://mock.test"); err != nil {
		fmt.Println(err)
		return
	}
	client, err := zendesk.NewClient("", zendesk.APIToken("anyone@example.com", "unused"),
		zendesk.WithBaseURL("https://mock.test"), zendesk.WithHTTPClient(&http.Client{Transport: mt}))
	if err != nil {
		fmt.Println(err)
		return
	}
	sc, _, err := client.SideConversations.Show(context.Background(), 42, "5c000000-0000-4000-8000-000000000001",
		&zendesk.ShowOptions{IncludeEvents: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sc.Subject, len(sc.Events))
	fmt.Println(sc.URL)
	fmt.Println(mt.GetTotalCallCount())
	// Output:
	// Invoice 1042 was charged twice 2
	// https://mock.test/api/v2/tickets/42/side_conversations/5c000000-0000-4000-8000-000000000001
	// 1
}
