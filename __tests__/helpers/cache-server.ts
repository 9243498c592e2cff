// A self-hosted Nx remote cache on 127.0.0.1, following Nx's spec (GET/PUT /v1/cache/{hash},
// Authorization: Bearer <token>): 200 body on a hit, 404 on a miss, 200 on a stored upload,
// 403 on an upload with a read-only token, text/plain 401 for an unknown token.
// Every request is recorded, so tests can assert what Nx asked and with which token.

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface CacheRequest {
  method: string
  hash: string
  token: string
  status: number
}

export interface CacheServer {
  url: string
  requests: CacheRequest[]
  entries: Map<string, Buffer>
  close(): Promise<void>
}

export async function startCacheServer(tokens: Record<string, 'read-write' | 'read-only'>): Promise<CacheServer> {
  const requests: CacheRequest[] = []
  const entries = new Map<string, Buffer>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c as Buffer))
    req.on('end', () => {
      const m = /^\/v1\/cache\/([^/?]+)$/.exec(req.url ?? '')
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '')
      const answer = (status: number, body?: Buffer | string, type = 'text/plain'): void => {
        requests.push({ method: req.method ?? '', hash: m?.[1] ?? '', token, status })
        res.writeHead(status, body === undefined ? {} : { 'content-type': type })
        res.end(body)
      }
      if (!m) return answer(404, 'not found')
      const level = tokens[token]
      if (!level) return answer(401, 'unknown token')
      if (req.method === 'GET') {
        const entry = entries.get(m[1])
        return entry ? answer(200, entry, 'application/octet-stream') : answer(404, 'miss')
      }
      if (req.method === 'PUT') {
        if (level !== 'read-write') return answer(403, 'read-only token')
        if (entries.has(m[1])) return answer(409, 'exists')
        entries.set(m[1], Buffer.concat(chunks))
        return answer(200)
      }
      return answer(405, 'method not allowed')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    entries,
    close: () => new Promise<void>(resolve => server.close(() => resolve()))
  }
}
