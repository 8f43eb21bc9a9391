package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/publishers/static"
)

func (a *app) newSiteCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "site",
		Short: "Build or preview the built-in static status page",
	}
	build := &cobra.Command{
		Use:   "build",
		Short: "Render the static status page from the incident records",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := a.staticPage()
			if err != nil {
				return err
			}
			n, err := a.rb.BuildSite(s)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "built %d incident page(s) into %s\n", n, s.Dir())
			return nil
		},
	}
	var addr string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Build the static status page and preview it on localhost",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := a.staticPage()
			if err != nil {
				return err
			}
			if _, err := a.rb.BuildSite(s); err != nil {
				return err
			}
			host, _, err := net.SplitHostPort(addr)
			if err != nil || (host != "localhost" && net.ParseIP(host) == nil) || (net.ParseIP(host) != nil && !net.ParseIP(host).IsLoopback()) {
				return usageErrorf("--addr %q: serve previews on a loopback address only, like 127.0.0.1:8080", addr)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "serving %s on http://%s/ (Ctrl-C stops)\n", s.Dir(), ln.Addr())
			srv := &http.Server{Handler: noDotfiles(http.FileServer(http.Dir(s.Dir()))), ReadHeaderTimeout: 5 * time.Second}
			go func() {
				<-c.Context().Done()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			}()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "loopback address to listen on")
	c.AddCommand(build, serve)
	return c
}

func (a *app) staticPage() (*static.Publisher, error) {
	rb, err := a.runbook()
	if err != nil {
		return nil, err
	}
	s, ok := rb.StatusPage.Pub.(*static.Publisher)
	if !ok {
		return nil, fmt.Errorf("the status page is of type %q: `incident site` renders only the built-in static page", rb.StatusPage.Type)
	}
	return s, nil
}

// noDotfiles answers 404 for any path with a dot-segment: the site's lock
// and a build's staging folders are never served.
func noDotfiles(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, seg := range strings.Split(r.URL.Path, "/") {
			if strings.HasPrefix(seg, ".") {
				http.NotFound(w, r)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
