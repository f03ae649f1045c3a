// Package external checks xbr's XAPI simulator with third-party XAPI
// clients: the npm package xen-api (Xen Orchestra's client), installed by
// scripts/tool-xen-api.sh, connects, snapshots, exports and re-imports a VM
// over both of its transports.
package external
