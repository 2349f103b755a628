package zdsc

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	zendesk "github.com/sideconv/zendesk"
)

var showCommand = &command{
	name:    "show",
	args:    "TICKET ID",
	summary: "show a side conversation (--events: with its history)",
	about: `
Show one side conversation: subject, state, channel, participants, the
child ticket it made, its external ids and its times. --events adds its
history. With --json, the side conversation as one object, or with
--events {"side_conversation": ..., "events": [...]}.`,
	flags: `
--events   also print the events (its messages and changes)`,
	examples: `
zdsc --demo show 1 5c000000-0000-4000-8000-000000000001
zdsc --demo show 1 5c000000-0000-4000-8000-000000000003 --events --json`,
	run: runShow,
}

var eventsCommand = &command{
	name:    "events",
	args:    "TICKET ID",
	summary: "list the events of a side conversation",
	about: `
List the events of a side conversation, oldest first: its creation, the
replies and the changes of state or subject, with the sender, the start of
each message and its attachments. Every page is walked. With --json, one
event per line.`,
	examples: `
zdsc --demo events 1 5c000000-0000-4000-8000-000000000001
zdsc --demo events 1 5c000000-0000-4000-8000-000000000002 --json`,
	run: runEvents,
}

func runShow(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("show")
	withEvents := fs.Bool("events", false, "")
	pos, ticket, err := a.parseTicket(fs, args)
	if err != nil {
		return err
	}
	client, err := a.client(ctx)
	if err != nil {
		return err
	}
	sc, _, err := client.SideConversations.Show(ctx, ticket, pos[1], &zendesk.ShowOptions{IncludeEvents: *withEvents})
	if err != nil {
		return err
	}
	if a.g.json {
		if !*withEvents {
			return a.printJSON(sc)
		}
		events := sc.Events
		if events == nil {
			events = []zendesk.Event{}
		}
		return a.printJSON(struct {
			SideConversation *zendesk.SideConversation `json:"side_conversation"`
			Events           []zendesk.Event           `json:"events"`
		}{sc, events})
	}
	if err := a.printFields(conversationFields(*sc)); err != nil {
		return err
	}
	if !*withEvents {
		return nil
	}
	fmt.Fprintln(a.env.Stdout)
	if len(sc.Events) == 0 {
		fmt.Fprintln(a.env.Stdout, "No events.")
		return nil
	}
	return a.printTable(eventsTable(sc.Events))
}

// conversationFields are the lines of show.
func conversationFields(sc zendesk.SideConversation) [][2]string {
	fields := [][2]string{
		{"ID", sc.ID},
		{"Ticket", strconv.FormatInt(sc.TicketID, 10)},
		{"Subject", sc.Subject},
		{"State", string(sc.State)},
		{"Channel", string(channelOf(sc))},
		{"Participants", participantsText(sc.Participants)},
	}
	if child, ok := sc.ChildTicketID(); ok {
		fields = append(fields, [2]string{"Child ticket", strconv.FormatInt(child, 10)})
	}
	fields = append(fields,
		[2]string{"Created", timeText(sc.CreatedAt)},
		[2]string{"Last message", timeText(sc.MessageAddedAt)},
		[2]string{"Updated", timeText(sc.UpdatedAt)},
	)
	if sc.PreviewText != "" {
		fields = append(fields, [2]string{"Preview", sc.PreviewText})
	}
	if len(sc.ExternalIDs) > 0 {
		keys := make([]string, 0, len(sc.ExternalIDs))
		for k := range sc.ExternalIDs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		pairs := make([]string, len(keys))
		for i, k := range keys {
			pairs[i] = k + "=" + sc.ExternalIDs[k]
		}
		fields = append(fields, [2]string{"External ids", strings.Join(pairs, ", ")})
	}
	return fields
}

func runEvents(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("events")
	pos, ticket, err := a.parseTicket(fs, args)
	if err != nil {
		return err
	}
	client, err := a.client(ctx)
	if err != nil {
		return err
	}
	var events []zendesk.Event
	enc := jsonLines(a.env.Stdout)
	for ev, err := range client.SideConversations.ListEventsIter(ctx, ticket, pos[1], nil) {
		if err != nil {
			return err
		}
		if a.g.json {
			if err := enc.Encode(ev); err != nil {
				return err
			}
			continue
		}
		events = append(events, ev)
	}
	if a.g.json {
		return nil
	}
	if len(events) == 0 {
		fmt.Fprintln(a.env.Stderr, "zdsc events: the side conversation has no events")
		return nil
	}
	return a.printTable(eventsTable(events))
}
