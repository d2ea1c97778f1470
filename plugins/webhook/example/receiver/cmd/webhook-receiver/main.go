// Command webhook-receiver serves the reference receiver:
//
//	WEBHOOK_SECRET=whsec_... go run ./cmd/webhook-receiver -addr :8443
//
// (put it behind TLS; crmhost reaches only public addresses).
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"strings"

	"crmhost.dev/plugins/webhook/example/receiver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "listen address")
	account := flag.String("account", "example", "the account id answered in crm.describe")
	flag.Parse()
	secrets := strings.Fields(os.Getenv("WEBHOOK_SECRET")) // two, space-separated, while rotating
	if len(secrets) == 0 {
		log.Fatal("set WEBHOOK_SECRET to this tenant's whsec_ secret")
	}
	log.Printf("serving the crmhost webhook contract on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, &receiver.Handler{Secrets: secrets, AccountID: *account}))
}
