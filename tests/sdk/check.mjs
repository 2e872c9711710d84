// SPDX-License-Identifier: Apache-2.0
// Scaleway's official TypeScript SDK (@scaleway/sdk-interlink) against
// interlink-sim: a real client holds the simulator to the API it stands in
// for. Every expectation is computed here from the simulator's own data
// (GET /_sim/data), independently of how the simulator computes its answers.
//
//   node check.mjs URL TOKEN REGION...
//
// Prints one line per check that failed, then "N checks, M failed"; exits 1
// when anything failed.
import { createClient, Errors } from '@scaleway/sdk-client'
import { Interlinkv1beta1 } from '@scaleway/sdk-interlink'

const [url, token, ...regions] = process.argv.slice(2)
const ACCESS_KEY = 'SCWXXXXXXXXXXXXXXXXX'
let checks = 0
let failed = 0

function check (cond, what) {
  checks++
  if (!cond) {
    failed++
    console.log('FAIL ' + what)
  }
}

function client (secretKey) {
  return new Interlinkv1beta1.API(createClient({
    accessKey: ACCESS_KEY,
    secretKey,
    apiURL: url,
    defaultRegion: regions[0],
    defaultPageSize: 7
  }))
}

const api = client(token)
const snake = (k) => k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())
const bytes = (s) => Buffer.from(s ?? '', 'utf8')
const cmpBytes = (a, b) => Buffer.compare(bytes(a), bytes(b))
const time = (s) => (s ? Date.parse(s) : -1)

// Does an SDK object hold exactly what the API's JSON says, field by field?
function same (sdk, raw, where) {
  for (const [k, v] of Object.entries(sdk)) {
    const r = raw[snake(k)]
    if (v instanceof Date) {
      check(r && v.getTime() === Date.parse(r), `${where}.${k}: date ${r}`)
    } else if (v === undefined) {
      check(r === undefined || r === null, `${where}.${k}: missing`)
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      same(v, r ?? {}, `${where}.${k}`)
    } else {
      check(JSON.stringify(v) === JSON.stringify(r),
        `${where}.${k}: ${JSON.stringify(v)} != ${JSON.stringify(r)}`)
    }
  }
}

const setEq = (a, b) => a.length === b.length &&
  [...a].sort().join() === [...b].sort().join()

// The collections: how the SDK lists and gets them, what filters and orders
// they take, and what each filter selects (from the simulator's data).
const collections = {
  connections: {
    list: (r) => api.listDedicatedConnections(r),
    get: (region, id) => api.getDedicatedConnection({ region, connectionId: id }),
    resource: 'dedicated_connection',
    statuses: ['unknown_status', 'created', 'configuring', 'failed',
      'active', 'disabled', 'deleted', 'locked'],
    orders: ['name_asc', 'name_desc', 'created_at_asc', 'created_at_desc',
      'updated_at_asc', 'updated_at_desc', 'status_asc', 'status_desc'],
    filters: (all, region) => {
      const c = all[Math.min(12, all.length - 1)]
      return [
        [{ projectId: c.project_id }, (x) => x.project_id === c.project_id],
        [{ organizationId: c.organization_id },
          (x) => x.organization_id === c.organization_id],
        [{ popId: c.pop_id }, (x) => x.pop_id === c.pop_id],
        [{ status: 'failed' }, (x) => x.status === 'failed'],
        [{ bandwidthMbps: c.bandwidth_mbps },
          (x) => x.bandwidth_mbps === c.bandwidth_mbps],
        [{ name: 'backbone' }, (x) => (x.name ?? '').includes('backbone')],
        [{ tags: ['prod', 'edge'] },
          (x) => ['prod', 'edge'].every((t) => (x.tags ?? []).includes(t))],
        [{ status: 'active', tags: ['prod'] },
          (x) => x.status === 'active' && (x.tags ?? []).includes('prod')]
      ]
    }
  },
  pops: {
    list: (r) => api.listPops(r),
    get: (region, id) => api.getPop({ region, popId: id }),
    resource: 'pop',
    statuses: [],
    orders: ['name_asc', 'name_desc'],
    filters: (all, region, data) => {
      const landing = new Set(data[region].connections.map((c) => c.pop_id))
      return [
        [{ name: all[0].name }, (x) => x.name.includes(all[0].name)],
        [{ hostingProviderName: all[0].hosting_provider_name },
          (x) => x.hosting_provider_name === all[0].hosting_provider_name],
        [{ linkBandwidthMbps: 10000 },
          (x) => (x.available_link_bandwidths_mbps ?? []).includes(10000)],
        [{ dedicatedAvailable: true }, (x) => landing.has(x.id)],
        [{ dedicatedAvailable: false }, (x) => !landing.has(x.id)],
        [{ partnerId: data[region].partners[0].id },
          (x) => servedBy(data, region, data[region].partners[0].id).has(x.id)]
      ]
    }
  },
  links: {
    list: (r) => api.listLinks(r),
    get: (region, id) => api.getLink({ region, linkId: id }),
    resource: 'link',
    statuses: ['unknown_link_status', 'configuring', 'failed', 'requested',
      'refused', 'expired', 'provisioning', 'active', 'limited_connectivity',
      'all_down', 'deprovisioning', 'deleted', 'locked', 'ready'],
    orders: ['created_at_asc', 'created_at_desc', 'name_asc', 'name_desc',
      'status_asc', 'status_desc'],
    filters: (all) => {
      const self = all.find((x) => x.self && !x.partner && x.vpc_id &&
        x.routing_policy_v4_id)
      const hosted = all.find((x) => x.partner && !x.self)
      const rp = self.routing_policy_v4_id
      const part = somePart(all)
      return [
        [{ projectId: self.project_id }, (x) => x.project_id === self.project_id],
        [{ organizationId: self.organization_id },
          (x) => x.organization_id === self.organization_id],
        [{ name: part }, (x) => (x.name ?? '').includes(part)],
        [{ tags: ['prod'] }, (x) => (x.tags ?? []).includes('prod')],
        [{ status: 'active' }, (x) => x.status === 'active'],
        [{ bgpV4Status: 'down' }, (x) => x.bgp_v4_status === 'down'],
        [{ bgpV6Status: 'disabled' }, (x) => x.bgp_v6_status === 'disabled'],
        [{ popId: self.pop_id }, (x) => x.pop_id === self.pop_id],
        [{ bandwidthMbps: self.bandwidth_mbps },
          (x) => x.bandwidth_mbps === self.bandwidth_mbps],
        [{ partnerId: hosted.partner.partner_id },
          (x) => x.partner?.partner_id === hosted.partner.partner_id],
        [{ vpcId: self.vpc_id }, (x) => x.vpc_id === self.vpc_id],
        [{ routingPolicyId: rp }, (x) => [x.routing_policy_v4_id,
          x.routing_policy_v6_id, x.routing_policy_id].includes(rp)],
        [{ pairingKey: hosted.partner.pairing_key },
          (x) => x.partner?.pairing_key === hosted.partner.pairing_key],
        [{ kind: 'hosted' }, (x) => !!x.partner && !x.self],
        [{ kind: 'self_hosted' }, (x) => !!x.self && !x.partner],
        [{ connectionId: self.self.connection_id },
          (x) => x.self?.connection_id === self.self.connection_id]
      ]
    }
  },
  partners: {
    list: (r) => api.listPartners(r),
    get: (region, id) => api.getPartner({ region, partnerId: id }),
    resource: 'partner',
    statuses: [],
    orders: ['name_asc', 'name_desc'],
    filters: (all, region, data) => {
      const pops = data[region].pops.map((p) => p.id)
      const at = (ids) => (x) => ids.some((p) =>
        servedBy(data, region, x.id).has(p))
      return [
        [{ popIds: [pops[0]] }, at([pops[0]])],
        [{ popIds: [pops[1], pops[2]] }, at([pops[1], pops[2]])]
      ]
    }
  },
  routing_policies: {
    list: (r) => api.listRoutingPolicies(r),
    get: (region, id) => api.getRoutingPolicy({ region, routingPolicyId: id }),
    resource: 'routing_policy',
    statuses: [],
    orders: ['created_at_asc', 'created_at_desc', 'name_asc', 'name_desc'],
    filters: (all) => {
      const p = all[all.length - 1]
      const part = somePart(all)
      return [
        [{ projectId: p.project_id }, (x) => x.project_id === p.project_id],
        [{ organizationId: p.organization_id },
          (x) => x.organization_id === p.organization_id],
        [{ name: part }, (x) => (x.name ?? '').includes(part)],
        [{ tags: ['prod'] }, (x) => (x.tags ?? []).includes('prod')],
        [{ ipv6: true }, (x) => x.is_ipv6 === true],
        [{ ipv6: false }, (x) => x.is_ipv6 === false]
      ]
    }
  }
}

// Three characters from the middle of some name, for the name filter.
function somePart (all) {
  const named = all.find((x) => [...(x.name ?? '')].length >= 5)
  return [...named.name].slice(1, 4).join('')
}

// The PoPs a partner serves (the simulator's rule: those its hosted links
// land at), or the partners a PoP has: both from the links.
function servedBy (data, region, id) {
  const out = new Set()
  for (const l of data[region].links) {
    if (!l.partner) continue
    if (l.partner.partner_id === id) out.add(l.pop_id)
    if (l.pop_id === id) out.add(l.partner.partner_id)
  }
  return out
}

// The order an order_by asks for, as the simulator documents it: names by
// bytes, times by instant (null first), statuses by the enum, ties by id.
function sorted (all, order, statuses) {
  const desc = order.endsWith('_desc')
  const key = order.replace(/_(asc|desc)$/, '')
  const cmp = (a, b) => {
    let r
    if (key === 'name') r = cmpBytes(a.name, b.name)
    else if (key === 'status') {
      r = statuses.indexOf(a.status) - statuses.indexOf(b.status)
    } else r = time(a[key]) - time(b[key])
    r = Math.sign(r) * (desc ? -1 : 1)
    return r || cmpBytes(a.id, b.id)
  }
  return [...all].sort(cmp).map((x) => x.id)
}

async function expectError (promise, type, what) {
  try {
    await promise
    check(false, `${what}: no error`)
  } catch (e) {
    check(e instanceof type, `${what}: ${e.constructor.name} ${e.message}`)
    return e
  }
}

async function checkCollection (name, col, region, data) {
  const all = data[region][name]
  const where = `${region}/${name}`
  // The SDK's paginator, at a small page size, gets everything.
  const got = await col.list({ region, pageSize: 7 }).all()
  check(setEq(got.map((x) => x.id), all.map((x) => x.id)),
    `${where}: the paginator got ${got.length} of ${all.length}`)
  let pages = 0
  let seen = 0
  for await (const page of col.list({ region, pageSize: 7 })) {
    pages++
    seen += page.length
  }
  check(seen === all.length, `${where}: pages held ${seen}`)
  check(all.length === 0 || pages >= Math.ceil(all.length / 10),
    `${where}: only ${pages} pages`)
  // Everything unmarshals, and holds what the API sent.
  const raw = new Map(all.map((x) => [x.id, x]))
  for (const x of got) same(x, raw.get(x.id), `${where}/${x.id}`)
  // Every order.
  for (const order of col.orders) {
    const ids = (await col.list({ region, orderBy: order }).all())
      .map((x) => x.id)
    check(JSON.stringify(ids) ===
      JSON.stringify(sorted(all, order, col.statuses)),
    `${where}: order ${order}`)
  }
  // Every filter selects what the full list says it should.
  for (const [f, pred] of col.filters(all, region, data)) {
    const ids = (await col.list({ region, ...f }).all()).map((x) => x.id)
    const want = all.filter(pred).map((x) => x.id)
    check(setEq(ids, want), `${where}: filter ${JSON.stringify(f)}: ` +
      `${ids.length} instead of ${want.length}`)
    check(want.length > 0 || f.dedicatedAvailable === false,
      `${where}: filter ${JSON.stringify(f)} selects nothing`)
  }
  // A get matches the listing; an unknown id is the SDK's not-found error.
  for (const x of got) {
    const one = await col.get(region, x.id)
    check(JSON.stringify(one) === JSON.stringify(x), `${where}: get ${x.id}`)
  }
  const e = await expectError(col.get(region,
    '00000000-0000-4000-8000-000000000000'), Errors.ResourceNotFoundError,
  `${where}: unknown id`)
  check(e?.resource === col.resource, `${where}: 404 names ${e?.resource}`)
}

async function main () {
  const data = await (await fetch(url + '/_sim/data')).json()
  for (const region of regions) {
    for (const [name, col] of Object.entries(collections)) {
      await checkCollection(name, col, region, data)
    }
  }
  // A key the API refuses: the SDK's authentication error.
  await expectError(client('00000000-0000-4000-8000-00000000dead')
    .listDedicatedConnections({ region: regions[0] }),
  Errors.DeniedAuthenticationError, 'a wrong key')
  console.log(`${checks} checks, ${failed} failed`)
  process.exit(failed ? 1 : 0)
}

main().catch((e) => {
  console.log('FAIL ' + (e.stack ?? e))
  process.exit(1)
})
