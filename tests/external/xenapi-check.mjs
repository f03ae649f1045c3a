// Drives the XAPI simulator with npm xen-api, as Xen Orchestra does:
// connect (events watched), list VMs, callAsync('VM.snapshot'), barrier(),
// getResource('/export/') of the snapshot, putResource(stream, '/import/').
// Usage: node xenapi-check.mjs URL USER PASSWORD TRANSPORT VM_NAME COMPRESSION
// Prints one JSON line: {vm, snapshot, imported, transport, vms}.
import path from 'node:path'

const [url, user, password, transport, vmName, compression] = process.argv.slice(2)
const modules = process.env.XBR_NODE_MODULES
const { createClient } = await import(path.join(modules, 'xen-api', 'index.mjs'))

const xapi = createClient({ url, auth: { user, password }, allowUnauthorized: true, transport })
await xapi.connect()
await xapi.objectsFetched

const vms = Object.values(xapi.objects.all).filter(
  o => o.$type === 'VM' && !o.is_a_template && !o.is_control_domain && !o.is_a_snapshot
)
const vm = vms.find(v => v.name_label === vmName)
if (vm === undefined) throw new Error('no VM ' + vmName + ' among ' + vms.map(v => v.name_label))

const snapshot = await xapi.callAsync('VM.snapshot', vm.$ref, 'xen-api check')
await xapi.barrier()
const snapRecord = xapi.getObjectByRef(snapshot)
if (!snapRecord.is_a_snapshot || snapRecord.snapshot_of !== vm.$ref) {
  throw new Error('snapshot record not seen through events: ' + JSON.stringify(snapRecord))
}

const exported = await xapi.getResource('/export/', { query: { ref: snapshot, use_compression: compression } })
const result = await xapi.putResource(exported.body, '/import/', {})
await exported.task
const imported = Array.isArray(result) ? result[0] : result
if (typeof imported !== 'string' || !imported.startsWith('OpaqueRef:')) {
  throw new Error('import result ' + JSON.stringify(result))
}
await xapi.disconnect()
console.log(JSON.stringify({ vm: vm.$ref, snapshot, imported, transport, vms: vms.length }))
process.exit(0)
