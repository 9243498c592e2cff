import { tokenLevel } from '../src/nx-config.js'
test('smoke', () => {
  expect(tokenLevel(Buffer.from('0b7c3c4e-1d2a-4a5b-9c8d-7e6f5a4b3c2d|read-write').toString('base64'))).toBe('read-write')
})
