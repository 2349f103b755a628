package zendesk_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// The examples run against zendesktest, the in-memory fake of Zendesk, on a
// fixed clock, so their output is stable. Against Zendesk, create the client
// with zendesk.NewClient as ExampleNewClient shows instead.

// exampleClock is the fixed time of the examples' server.
func exampleClock() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }

func ExampleNewClient() {
	client, err := zendesk.NewClient("acme", zendesk.APIToken("agent@acme.com", "api-token"),
		zendesk.WithUserAgent("acme-escalations/1.2"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(client.BaseURL())

	// WithBaseURL points the client elsewhere: a proxy, or zendesktest.
	local, err := zendesk.NewClient("", zendesk.APIToken("agent@acme.com", "api-token"),
		zendesk.WithBaseURL("http://127.0.0.1:8080"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(local.BaseURL())
	// Output:
	// https://acme.zendesk.com/api/v2/
	// http://127.0.0.1:8080/api/v2/
}

func ExampleSideConversationsService_Create() {
	srv := zendesktest.NewServer(zendesktest.WithTickets(42), zendesktest.WithClock(exampleClock))
	defer srv.Close()
	client := srv.Client()

	res, _, err := client.SideConversations.Create(context.Background(), 42, zendesk.CreateRequest{
		Message: zendesk.Message{
			Subject: "Invoice 1042",
			Body:    "Was this invoice charged twice?",
			To:      []zendesk.Participant{zendesk.NamedEmail("billing@example.com", "Billing")},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := res.SideConversation
	fmt.Println(sc.ID, sc.State, sc.Subject)
	fmt.Println("created at", sc.CreatedAt.UTC().Format(time.RFC3339))
	fmt.Println(res.Event.Type, "sent to", res.Event.Message.To[0].Email)
	// Output:
	// 5c000000-0000-4000-8000-000000000001 open Invoice 1042
	// created at 2025-06-01T12:00:00Z
	// create sent to billing@example.com
}

func ExampleSideConversationsService_Create_slack() {
	srv := zendesktest.NewServer(zendesktest.WithTickets(42), zendesktest.WithClock(exampleClock))
	defer srv.Close()
	client := srv.Client()

	res, _, err := client.SideConversations.Create(context.Background(), 42, zendesk.CreateRequest{
		Message: zendesk.Message{
			Subject: "Outage in eu-west",
			Body:    "Customers on ticket 42 cannot log in. Anyone on it?",
			To:      []zendesk.Participant{zendesk.SlackChannel("T024BE7LD", "C0BEBT10X")},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := res.SideConversation
	fmt.Println(sc.ID, sc.State, sc.Subject)
	to := res.Event.Message.To[0]
	fmt.Println("posted to", to.Channel(), to.SlackWorkspaceID, to.SlackChannelID)
	fmt.Println(len(sc.Participants), "participants: the agent and the channel")
	// Output:
	// 5c000000-0000-4000-8000-000000000001 open Outage in eu-west
	// posted to slack T024BE7LD C0BEBT10X
	// 2 participants: the agent and the channel
}

func ExampleSideConversationsService_Create_childTicket() {
	srv := zendesktest.NewServer(zendesktest.WithTickets(42), zendesktest.WithClock(exampleClock))
	defer srv.Close()
	client := srv.Client()

	// A child ticket for support group 360001: Zendesk opens a ticket of its
	// own, assigned to the group, and links it to ticket 42.
	res, _, err := client.SideConversations.Create(context.Background(), 42, zendesk.CreateRequest{
		Message: zendesk.Message{
			Subject: "Replace the printer's fuser",
			Body:    "Hardware team, the customer's printer overheats.",
			To:      []zendesk.Participant{zendesk.SupportGroup(360001)},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := res.SideConversation
	fmt.Println(sc.ID, sc.State, sc.Subject)
	if child, ok := sc.ChildTicketID(); ok {
		fmt.Println("child ticket", child)
	}
	// Output:
	// 5c000000-0000-4000-8000-000000000001 open Replace the printer's fuser
	// child ticket 10001
}

func ExampleSideConversationsService_Reply() {
	srv := zendesktest.NewServer(zendesktest.WithTickets(42), zendesktest.WithClock(exampleClock))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	to := []zendesk.Participant{zendesk.Email("billing@example.com")}
	created, _, err := client.SideConversations.Create(ctx, 42, zendesk.CreateRequest{
		Message: zendesk.Message{Subject: "Invoice 1042", Body: "Charged twice?", To: to},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	id := created.SideConversation.ID

	// A key makes the call safe to repeat: a second call with it finds this
	// reply instead of sending again. (To is optional on a reply: without it
	// the reply goes to the conversation's participants.)
	res, _, err := client.SideConversations.Reply(ctx, 42, id, zendesk.ReplyRequest{
		Message:        zendesk.Message{Body: "Any news on this?", To: to},
		IdempotencyKey: "invoice-1042-reminder",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Zendesk answers a reply with the conversation alone; the reply itself
	// is the conversation's latest event.
	fmt.Println(res.SideConversation.ID, res.SideConversation.State, res.SideConversation.PreviewText)
	events, _, err := client.SideConversations.ListEvents(ctx, 42, id, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	reply := events[len(events)-1]
	fmt.Println(reply.Type, reply.Message.Subject, "|", reply.Message.Body, "| to", reply.Message.To[0].Email)
	// Output:
	// 5c000000-0000-4000-8000-000000000001 open Any news on this?
	// reply Invoice 1042 | Any news on this? | to billing@example.com
}

func ExampleSideConversationsService_ListIter() {
	srv := zendesktest.NewServer(zendesktest.WithTickets(42), zendesktest.WithClock(exampleClock))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	for _, subject := range []string{"Invoice 1042", "Refund 77", "Address change"} {
		_, _, err := client.SideConversations.Create(ctx, 42, zendesk.CreateRequest{Message: zendesk.Message{
			Subject: subject, Body: "Please check.", To: []zendesk.Participant{zendesk.Email("billing@example.com")},
		}})
		if err != nil {
			fmt.Println(err)
			return
		}
	}

	// Two per page: the iterator fetches the second page when it gets there.
	for sc, err := range client.SideConversations.ListIter(ctx, 42, &zendesk.ListOptions{PerPage: 2}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(sc.ID, sc.State, sc.Subject)
	}
	// Output:
	// 5c000000-0000-4000-8000-000000000001 open Invoice 1042
	// 5c000000-0000-4000-8000-000000000002 open Refund 77
	// 5c000000-0000-4000-8000-000000000003 open Address change
}

func ExampleSideConversationsService_Import() {
	srv := zendesktest.NewServer(zendesktest.WithTickets(42), zendesktest.WithClock(exampleClock))
	defer srv.Close()
	client := srv.Client()

	// A thread from another system keeps its times; nothing is e-mailed.
	asked := time.Date(2024, 11, 5, 9, 30, 0, 0, time.UTC)
	res, _, err := client.SideConversations.Import(context.Background(), 42, zendesk.ImportRequest{
		SideConversation: zendesk.ImportedSideConversation{Subject: "Old warranty claim", State: zendesk.StateClosed},
		Events: []zendesk.ImportEvent{
			{CreatedAt: asked, Message: zendesk.Message{Body: "Is this covered?", To: []zendesk.Participant{zendesk.Email("bob@example.com")}}},
			{CreatedAt: asked.Add(2 * time.Hour), Message: zendesk.Message{Body: "Yes, it is.", From: zendesk.Email("bob@example.com"), To: []zendesk.Participant{zendesk.Agent(1)}}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := res.SideConversation
	fmt.Println(sc.ID, sc.State, sc.Subject)
	fmt.Println("created at", sc.CreatedAt.UTC().Format(time.RFC3339), "last message at", sc.MessageAddedAt.UTC().Format(time.RFC3339))
	fmt.Println("messages sent:", len(srv.SentMessages()))
	// Output:
	// 5c000000-0000-4000-8000-000000000001 closed Old warranty claim
	// created at 2024-11-05T09:30:00Z last message at 2024-11-05T11:30:00Z
	// messages sent: 0
}

func ExampleAPIError() {
	srv := zendesktest.NewServer(zendesktest.WithTickets(42))
	defer srv.Close()
	client := srv.Client()

	_, _, err := client.SideConversations.Show(context.Background(), 42, "no-such-conversation", nil)
	fmt.Println("not found:", errors.Is(err, zendesk.ErrNotFound))

	var apiErr *zendesk.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Description)
		fmt.Println("quote to Zendesk support:", apiErr.RequestID)
	}
	// Output:
	// not found: true
	// 404 RecordNotFound Not found
	// quote to Zendesk support: zendesktest-00000001
}

func ExampleValidationError() {
	srv := zendesktest.NewServer(zendesktest.WithTickets(42))
	defer srv.Close()
	client := srv.Client()

	// An e-mail address and a Slack channel cannot share one message.
	_, _, err := client.SideConversations.Create(context.Background(), 42, zendesk.CreateRequest{
		Message: zendesk.Message{
			Body: "Hello",
			To:   []zendesk.Participant{zendesk.Email("someone@example.com"), zendesk.SlackChannel("T024BE7LD", "C0BEBT10X")},
		},
	})
	var invalid *zendesk.ValidationError
	if errors.As(err, &invalid) {
		fmt.Println("field:", invalid.Field)
	}
	fmt.Println("mixed participants:", errors.Is(err, zendesk.ErrMixedParticipants))
	fmt.Println("invalid request:", errors.Is(err, zendesk.ErrInvalidRequest))
	fmt.Println("requests sent:", len(srv.Requests()))
	// Output:
	// field: message.to[1]
	// mixed participants: true
	// invalid request: true
	// requests sent: 0
}
