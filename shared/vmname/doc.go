// Package vmname is the one rule by which a VM a client names — on the
// CLI, in a webhook body, a chat command or the web page — is found: a uuid
// is that VM; a name is the one VM of exactly that name among the VMs the
// caller knows (a listing's backups, the history's tasks, the pools' VMs,
// the standby copies). A name no VM carries is a *NotFoundError, a name
// several VMs share an *AmbiguousError that lists them (uuid in pool), with
// the same text on every door.
package vmname
