package discord

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/commands"
)

// respondFunc sends an interaction's initial response. It is called
// exactly once per interaction.
type respondFunc func(*discordgo.InteractionResponse) error

// interact handles one interaction from either transport. When the
// engine answers within DeferAfter the answer is the initial response;
// otherwise the initial response is deferred (type 5) and the answer
// replaces it through the interaction webhook, which the token allows for
// 15 minutes (tokenLifetime). ctx bounds the whole exchange and must
// outlive the HTTP request.
func (a *Adapter) interact(ctx context.Context, i *discordgo.Interaction, respond respondFunc) {
	switch i.Type {
	case discordgo.InteractionPing:
		a.send(ctx, respond, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
	case discordgo.InteractionApplicationCommandAutocomplete:
		a.send(ctx, respond, a.autocomplete(ctx, i))
	case discordgo.InteractionApplicationCommand:
		req, err := a.commandRequest(i)
		if err != nil {
			a.send(ctx, respond, notice(err.Error()))
			return
		}
		a.run(ctx, i, req, respond, "")
	case discordgo.InteractionMessageComponent:
		a.component(ctx, i, respond)
	case discordgo.InteractionModalSubmit:
		a.modalSubmit(ctx, i, respond)
	default:
		a.send(ctx, respond, notice("This kind of interaction is not supported."))
	}
}

// expired is the answer to a component whose custom id is no longer known.
const expired = "This button or form has expired; run the command again."

func (a *Adapter) component(ctx context.Context, i *discordgo.Interaction, respond respondFunc) {
	data := i.MessageComponentData()
	c, ok := a.stash.decode(data.CustomID)
	if !ok {
		a.send(ctx, respond, notice(expired))
		return
	}
	switch c.kind {
	case 'o':
		f, ok := a.stash.loadForm(c.key)
		if !ok || c.part >= f.parts() {
			a.send(ctx, respond, notice(expired))
			return
		}
		a.send(ctx, respond, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: modal(c.key, f, c.part)})
	case 'a':
		req := a.baseRequest(i)
		if c.action == actionShare {
			req.Text = c.value
			a.run(ctx, i, req, respond, "")
			return
		}
		req.Action = &commands.Action{ID: c.action, Value: c.value}
		a.run(ctx, i, req, respond, "")
	case 's':
		req := a.baseRequest(i)
		req.Action = &commands.Action{ID: c.action, Values: data.Values}
		if len(data.Values) > 0 {
			req.Action.Value = data.Values[0]
		}
		a.run(ctx, i, req, respond, "")
	default:
		a.send(ctx, respond, notice(expired))
	}
}

func (a *Adapter) modalSubmit(ctx context.Context, i *discordgo.Interaction, respond respondFunc) {
	data := i.ModalSubmitData()
	c, ok := a.stash.decode(data.CustomID)
	if !ok || c.kind != 'm' {
		a.send(ctx, respond, notice(expired))
		return
	}
	f, ok := a.stash.loadForm(c.key)
	if !ok || c.part >= f.parts() {
		a.send(ctx, respond, notice(expired))
		return
	}
	readModal(f, c.part, data)
	next := c.part + 1
	f.Complete = f.Complete || next == f.parts()
	a.stash.saveForm(c.key, f)
	if !f.Complete {
		m := continueMessage(c.key, f, next, fmt.Sprintf("Part %d of %d saved.", next, f.parts()))
		a.send(ctx, respond, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: responseData(m, discordgo.MessageFlagsEphemeral),
		})
		return
	}
	req := a.baseRequest(i)
	req.Action = &commands.Action{ID: f.Form.Action, Form: submission(c.key, f)}
	a.run(ctx, i, req, respond, c.key)
}

// run asks the engine and answers, deferring when it is slow. formKey is
// the stashed form a submission came from, "" otherwise.
func (a *Adapter) run(ctx context.Context, i *discordgo.Interaction, req *commands.Request, respond respondFunc, formKey string) {
	start := a.now()
	req.Followup = a.followup(i, start)
	req.Progress = a.progress(i, start)
	// A Share button runs its command again for the whole channel.
	shared := ""
	if i.Type == discordgo.InteractionMessageComponent && req.Action == nil {
		shared = req.UserID
	}
	done := make(chan commands.Reply, 1)
	go func() {
		rep := a.engine.Serve(ctx, req)
		if shared != "" {
			rep.InChannel = true
		}
		done <- withShare(req, rep)
	}()
	timer := time.NewTimer(a.deferAfter)
	defer timer.Stop()
	// A modal can open a modal only from a command or a component, never
	// from a modal submission (Discord: interaction response types).
	canModal := i.Type != discordgo.InteractionModalSubmit
	select {
	case rep := <-done:
		modalData, msgs := a.render(rep, canModal, formKey)
		if modalData != nil {
			a.send(ctx, respond, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: modalData})
			return
		}
		flags := ephemeral(rep)
		sharedBy(msgs, shared)
		if !a.send(ctx, respond, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: responseData(msgs[0], flags),
		}) {
			return
		}
		a.followups(ctx, i, msgs[1:], flags)
	case <-timer.C:
		if !a.send(ctx, respond, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
		}) {
			return
		}
		var rep commands.Reply
		select {
		case rep = <-done:
		case <-ctx.Done():
			a.logger.WarnContext(ctx, "discord answer abandoned", "err", ctx.Err(), "interaction", i.ID)
			return
		}
		a.finishDeferred(ctx, i, rep, formKey, shared)
	}
}

// finishDeferred replaces a deferred response with the answer. The
// deferral was ephemeral; an in-channel answer is posted as a public
// follow-up and the ephemeral placeholder deleted. shared is the user
// who shared the answer with a Share button, "" for none.
func (a *Adapter) finishDeferred(ctx context.Context, i *discordgo.Interaction, rep commands.Reply, formKey, shared string) {
	_, msgs := a.render(rep, false, formKey)
	sharedBy(msgs, shared)
	if rep.InChannel {
		if a.followups(ctx, i, msgs, 0) {
			if err := a.rest.InteractionResponseDelete(i, discordgo.WithContext(ctx)); err != nil {
				a.apiError("interaction_response_delete")
				a.logger.WarnContext(ctx, "discord delete placeholder failed", "err", scrub(err))
			}
		}
		return
	}
	if _, err := a.rest.InteractionResponseEdit(i, webhookEdit(msgs[0]), discordgo.WithContext(ctx)); err != nil {
		a.apiError("interaction_response_edit")
		a.logger.ErrorContext(ctx, "discord deferred answer failed", "err", scrub(err), "interaction", i.ID)
		return
	}
	a.followups(ctx, i, msgs[1:], discordgo.MessageFlagsEphemeral)
}

// followups posts msgs as follow-up messages; it reports whether all went.
func (a *Adapter) followups(ctx context.Context, i *discordgo.Interaction, msgs []*discordgo.MessageSend, flags discordgo.MessageFlags) bool {
	for _, m := range msgs {
		if _, err := a.rest.FollowupMessageCreate(i, true, webhookParams(m, flags), discordgo.WithContext(ctx)); err != nil {
			a.apiError("followup_message_create")
			a.logger.ErrorContext(ctx, "discord follow-up failed", "err", scrub(err), "interaction", i.ID)
			return false
		}
	}
	return true
}

// followup is the Request.Followup of an interaction: a follow-up message
// while the token lives, a plain channel message after.
func (a *Adapter) followup(i *discordgo.Interaction, start time.Time) func(ctx context.Context, r commands.Reply) error {
	return func(ctx context.Context, r commands.Reply) error {
		// Keep a minute's margin under the token's lifetime.
		if a.now().Sub(start) > tokenLifetime-time.Minute {
			_, err := a.Post(ctx, i.ChannelID, "", r)
			return err
		}
		_, msgs := a.render(r, false, "")
		for _, m := range msgs {
			if _, err := a.rest.FollowupMessageCreate(i, true, webhookParams(m, ephemeral(r)), discordgo.WithContext(ctx)); err != nil {
				a.apiError("followup_message_create")
				return fmt.Errorf("discord follow-up: %w", scrub(err))
			}
		}
		return nil
	}
}

// send sends the initial response and logs a failure; it reports success.
func (a *Adapter) send(ctx context.Context, respond respondFunc, r *discordgo.InteractionResponse) bool {
	if err := respond(r); err != nil {
		a.apiError("interaction_respond")
		a.logger.ErrorContext(ctx, "discord interaction response failed", "err", scrub(err))
		return false
	}
	return true
}

// render turns a reply into either a modal (when it asks for a form and a
// modal may open here) or messages. A form that cannot open as a modal
// becomes a message with a button that opens it; field errors of a
// stashed form keep what was typed behind an "Edit and resubmit" button.
func (a *Adapter) render(rep commands.Reply, canModal bool, formKey string) (*discordgo.InteractionResponseData, []*discordgo.MessageSend) {
	if rep.Form != nil {
		key := a.stash.newForm(*rep.Form)
		f, _ := a.stash.loadForm(key) // just stored
		if canModal && rep.Text == "" {
			return modal(key, f, 0), nil
		}
		m := continueMessage(key, f, 0, escape(rep.Text))
		return nil, []*discordgo.MessageSend{m}
	}
	if len(rep.FieldErrors) > 0 && formKey != "" {
		if f, ok := a.stash.loadForm(formKey); ok {
			m := fieldErrorsMessage(formKey, f, rep.FieldErrors)
			m.Content = truncate(escape(rep.Text), maxContent)
			return nil, []*discordgo.MessageSend{m}
		}
	}
	return nil, message(rep, a.stash)
}

func ephemeral(r commands.Reply) discordgo.MessageFlags {
	if r.InChannel {
		return 0
	}
	return discordgo.MessageFlagsEphemeral
}

func notice(text string) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content:         truncate(escape(text), maxContent),
			Flags:           discordgo.MessageFlagsEphemeral,
			AllowedMentions: noMentions(),
		},
	}
}

func responseData(m *discordgo.MessageSend, flags discordgo.MessageFlags) *discordgo.InteractionResponseData {
	return &discordgo.InteractionResponseData{
		Content:         m.Content,
		Embeds:          m.Embeds,
		Components:      m.Components,
		AllowedMentions: m.AllowedMentions,
		Flags:           flags,
	}
}

func webhookParams(m *discordgo.MessageSend, flags discordgo.MessageFlags) *discordgo.WebhookParams {
	return &discordgo.WebhookParams{
		Content:         m.Content,
		Embeds:          m.Embeds,
		Components:      m.Components,
		AllowedMentions: m.AllowedMentions,
		Flags:           flags,
	}
}

func webhookEdit(m *discordgo.MessageSend) *discordgo.WebhookEdit {
	content, embeds, comps := m.Content, m.Embeds, m.Components
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	if comps == nil {
		comps = []discordgo.MessageComponent{}
	}
	return &discordgo.WebhookEdit{Content: &content, Embeds: &embeds, Components: &comps, AllowedMentions: m.AllowedMentions}
}

// baseRequest fills who and where from an interaction.
func (a *Adapter) baseRequest(i *discordgo.Interaction) *commands.Request {
	req := &commands.Request{Platform: commands.PlatformDiscord, ChannelID: i.ChannelID}
	u := i.User
	if i.Member != nil && i.Member.User != nil {
		u = i.Member.User
	}
	if u != nil {
		req.UserID, req.UserName = u.ID, firstNonEmpty(u.GlobalName, u.Username)
	}
	return req
}

// commandRequest turns /portal <sub> [options] into the typed command
// line "<sub> <values...>", values in the order the command declares its
// arguments.
func (a *Adapter) commandRequest(i *discordgo.Interaction) (*commands.Request, error) {
	data := i.ApplicationCommandData()
	sub, err := subcommand(data)
	if err != nil {
		return nil, err
	}
	words := []string{sub.Name}
	if c := a.lookup(sub.Name); c != nil {
		for _, arg := range c.Args {
			if o := sub.GetOption(strings.ToLower(arg.Name)); o != nil {
				if v := optionValue(o); v != "" {
					words = append(words, v)
				}
			}
		}
	}
	req := a.baseRequest(i)
	req.Text = strings.Join(words, " ")
	return req, nil
}

func subcommand(data discordgo.ApplicationCommandInteractionData) (*discordgo.ApplicationCommandInteractionDataOption, error) {
	if data.Name != CommandName {
		return nil, commands.Userf("I only answer /%s.", CommandName)
	}
	if len(data.Options) == 0 || data.Options[0].Type != discordgo.ApplicationCommandOptionSubCommand {
		return nil, commands.Userf("Pick a subcommand, for example /%s help.", CommandName)
	}
	return data.Options[0], nil
}

func (a *Adapter) lookup(name string) *commands.Command {
	for _, c := range a.engine.Commands() {
		if strings.EqualFold(c.Name, name) {
			return &c
		}
	}
	return nil
}

// optionValue formats an option's value as typed text on one line.
func optionValue(o *discordgo.ApplicationCommandInteractionDataOption) string {
	switch v := o.Value.(type) {
	case string:
		return strings.Join(strings.Fields(v), " ")
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// autocomplete answers type-ahead for an option whose argument names a
// Suggest source. It cannot be deferred, so the engine gets DeferAfter.
func (a *Adapter) autocomplete(ctx context.Context, i *discordgo.Interaction) *discordgo.InteractionResponse {
	resp := &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{}},
	}
	sub, err := subcommand(i.ApplicationCommandData())
	if err != nil {
		return resp
	}
	var focused *discordgo.ApplicationCommandInteractionDataOption
	for _, o := range sub.Options {
		if o.Focused {
			focused = o
		}
	}
	c := a.lookup(sub.Name)
	if focused == nil || c == nil {
		return resp
	}
	source := ""
	for _, arg := range c.Args {
		if strings.EqualFold(arg.Name, focused.Name) {
			source = arg.Complete
		}
	}
	if source == "" {
		return resp
	}
	ctx, cancel := context.WithTimeout(ctx, a.deferAfter)
	defer cancel()
	for _, o := range a.engine.Suggest(ctx, source, optionValue(focused), maxAutocompleteOpt) {
		if len(resp.Data.Choices) == maxAutocompleteOpt {
			break
		}
		if o.Value == "" || len([]rune(o.Value)) > maxChoiceText {
			continue // a cut value would name something else
		}
		resp.Data.Choices = append(resp.Data.Choices, &discordgo.ApplicationCommandOptionChoice{
			Name:  truncate(firstNonEmpty(o.Label, o.Value), maxChoiceText),
			Value: o.Value,
		})
	}
	return resp
}
