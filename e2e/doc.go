// Package e2e tests Hookline from the outside: its GraphQL API over HTTP,
// websockets and SSE, the requests its deliveries make to real receivers,
// and real hookline processes built from the module. It holds tests only;
// they import nothing of Hookline but its exported packages.
package e2e
