package publishers

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestShortSecretRefused: a value too short to redact safely is refused,
// naming where it came from, whichever form the reference takes.
func TestShortSecretRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("hunter\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Dir: dir, Getenv: func(k string) string { return map[string]string{"SHORT": "abc", "LONG": "S3CR3T-long-enough"}[k] }}
	cases := map[string]string{"env:SHORT": "the environment variable SHORT", "file:pw": "the file pw"}
	if runtime.GOOS != "windows" {
		cases["cmd:echo 1234567"] = "the output of `echo …`"
	}
	for ref, where := range cases {
		s, _ := ParseSecret(ref)
		_, err := r.Resolve(context.Background(), s)
		if err == nil || !strings.Contains(err.Error(), "the value from "+where+" is") || !strings.Contains(err.Error(), "too short") && !strings.Contains(err.Error(), "this short") {
			t.Errorf("%s: err = %v, want a refusal naming %s", ref, err, where)
		}
	}
	long, _ := ParseSecret("env:LONG")
	if v, err := r.Resolve(context.Background(), long); err != nil || v != "S3CR3T-long-enough" {
		t.Errorf("a long enough value: %q, %v", v, err)
	}
}

// TestCommandArgumentsNeverShown: a cmd: reference may carry a token
// inline; its String, Where, and every error show only the command's name.
func TestCommandArgumentsNeverShown(t *testing.T) {
	for ref, want := range map[string]string{
		"env:TOKEN":                    "env:TOKEN",
		"file:~/.config/x":             "file:~/.config/x",
		"cmd:vault-token":              "cmd:vault-token",
		"cmd:pass show mastodon/token": "cmd:pass …",
		"cmd:curl -H 'X-Key: s3cr3tINLINE' https://v": "cmd:curl …",
		"cmd:TOKEN=s3cr3tINLINE get-token":            "cmd:TOKEN …",
		"cmd:get;echo s3cr3tINLINE":                   "cmd:get …",
	} {
		s, err := ParseSecret(ref)
		if err != nil {
			t.Fatal(err)
		}
		if s.String() != want || s.Ref() != ref {
			t.Errorf("%s: String %q, Ref %q; want %q", ref, s.String(), s.Ref(), want)
		}
		if b, _ := s.MarshalText(); string(b) != want {
			t.Errorf("%s: MarshalText %q", ref, b)
		}
		if strings.Contains(s.Where(), "s3cr3tINLINE") || strings.Contains(s.Where(), "mastodon/token") {
			t.Errorf("%s: Where %q shows the arguments", ref, s.Where())
		}
	}
	if runtime.GOOS == "windows" {
		return
	}
	r := &Resolver{}
	for _, ref := range []string{"cmd:false --token s3cr3tINLINE", "cmd:true s3cr3tINLINE", "cmd:sh -c 'exit 3' s3cr3tINLINE"} {
		s, _ := ParseSecret(ref)
		if _, err := r.Resolve(context.Background(), s); err == nil || strings.Contains(err.Error(), "s3cr3tINLINE") {
			t.Errorf("%s: err = %v, want one without the arguments", ref, err)
		}
	}
}
