package mailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/incident-cli/incident/publishers"
)

// classify turns a go-mail failure into an error the retry stage can judge:
// a 4xx reply, a timeout or a broken connection is retryable; a 5xx reply,
// a refused certificate or a server without STARTTLS is permanent.
func (s *Sender) classify(ctx context.Context, op string, err error, password string) error {
	code, msg := smtpReply(err)
	msg = shorten(CleanLine(s.redact(msg, password)), 300)
	if strings.Contains(err.Error(), "SMTP AUTH failed") {
		op = "login as " + s.username
	}
	where := "smtp " + s.Server() + ": " + op + ": "
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var sendErr *gomail.SendError
	var netErr net.Error
	switch {
	case code >= 500:
		return publishers.Permanent(fmt.Errorf("%s%s%s", where, msg, s.hint(code, msg)))
	case code >= 400:
		return fmt.Errorf("%s%s (a temporary refusal: try again later)", where, msg)
	case errors.As(err, &certErr) || errors.As(err, &hostErr) || errors.As(err, &authErr):
		return publishers.Permanent(fmt.Errorf("%sthe server's TLS certificate is not valid for %s: %s", where, s.host, msg))
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return publishers.Permanent(fmt.Errorf("%sthe server does not offer STARTTLS, and incident sends no password or mail in the clear; use smtps://%s:465 if it takes TLS there", where, s.host))
	case errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) || strings.Contains(err.Error(), "does not support SMTP AUTH"):
		return publishers.Permanent(fmt.Errorf("%sthe server offers no login method incident can use (%s); check the url's port (587 and 465 take logins)", where, msg))
	case ctx.Err() != nil || errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("%sno answer in time (%s)", where, msg)
	case errors.As(err, &sendErr) && isLocalFailure(sendErr.Reason):
		return publishers.Permanent(fmt.Errorf("%s%s", where, msg))
	}
	return fmt.Errorf("%s%s", where, msg) // the network: another attempt may work
}

// isLocalFailure reports go-mail reasons that no retry can change (the
// message itself cannot be built or encoded).
func isLocalFailure(r gomail.SendErrReason) bool {
	return r == gomail.ErrGetSender || r == gomail.ErrGetRcpts || r == gomail.ErrNoUnencoded
}

// smtpReply finds the server's reply in err: its code, and the error's text
// with the reply as the server wrote it.
func smtpReply(err error) (int, string) {
	code := 0
	var te *textproto.Error
	var se *gomail.SendError
	switch {
	case errors.As(err, &te):
		code = te.Code
	case errors.As(err, &se):
		code = se.ErrorCode()
	}
	return code, steps.Replace(unquoteReplies(err.Error()))
}

// steps shortens go-mail's words for the SMTP steps.
var steps = strings.NewReplacer("dial failed: ", "", "send failed: ", "", "SMTP AUTH failed: ", "",
	"sending SMTP MAIL FROM command: ", "MAIL FROM: ", "sending SMTP RCPT TO command: ", "RCPT TO: ",
	"sending SMTP DATA command: ", "DATA: ", "closing SMTP DATA writer: ", "DATA: ", "sending message content: ", "DATA: ")

// quotedReply is a reply as Go's textproto quotes it in errors: 535 "5.7.8 …".
var quotedReply = regexp.MustCompile(`\b([245]\d\d) ("(?:[^"\\]|\\.)*")`)

// unquoteReplies shows quoted replies as the server wrote them.
func unquoteReplies(s string) string {
	return quotedReply.ReplaceAllStringFunc(s, func(m string) string {
		code, q, _ := strings.Cut(m, " ")
		if v, err := strconv.Unquote(q); err == nil {
			return code + " " + v
		}
		return m
	})
}

// hint says what the user can do about a permanent refusal.
func (s *Sender) hint(code int, msg string) string {
	switch {
	case code == 530 || code == 534 || code == 535 || code == 538 || authStatus.MatchString(msg):
		if s.username == "" {
			return " (the server wants a login: set `username` and `password`)"
		}
		return " (check `username` " + strconv.Quote(s.username) + " and the password in " + s.password.Where() + ")"
	case strings.Contains(msg, "RCPT TO: "):
		return " (the server refuses the recipient: check the address in `to`)"
	case strings.Contains(msg, "MAIL FROM: "):
		return " (the server refuses the sender: check `from`; the account may not be allowed to send as " + s.from.Address + ")"
	case code == 550 || code == 551 || code == 553:
		return " (check `from` and the recipient addresses)"
	case code == 552:
		return " (the message is too large for the server)"
	}
	return ""
}

// authStatus matches the enhanced status codes of RFC 4954's login refusals.
var authStatus = regexp.MustCompile(`\b5\.7\.(0|8|9|11)\b`)

// redact removes the password from a server's reply in every form we sent
// it: as is, base64 (LOGIN), and inside the base64 PLAIN response.
func (s *Sender) redact(msg, password string) string {
	if password == "" {
		return msg
	}
	for _, v := range []string{
		base64.StdEncoding.EncodeToString([]byte("\x00" + s.username + "\x00" + password)),
		base64.StdEncoding.EncodeToString([]byte(password)),
		password,
	} {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	return msg
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
