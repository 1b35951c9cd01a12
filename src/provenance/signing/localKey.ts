// The local-key Signer role: signs bytes with an ECDSA P-256 private key held in
// a PEM file, offline. It has the one method of sigstore-js's `Signer`
// (packages/sign/src/signer/signer.ts), so a bundle builder takes it as it takes
// a FulcioSigner.
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { Signature, Signer } from '@sigstore/sign';
import { ProvenantError } from '../../errors.js';

/** Hex SHA-256 of the DER SubjectPublicKeyInfo: the key id Provenant prints and puts in hints. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** Throws SIGN_INVALID_KEY unless the key is an EC key on P-256. */
export function assertP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ProvenantError(
      'SIGN_INVALID_KEY',
      `${what} is a ${key.asymmetricKeyType ?? 'symmetric'} key${
        key.asymmetricKeyDetails?.namedCurve ? ` on ${key.asymmetricKeyDetails.namedCurve}` : ''
      }, not ECDSA P-256`,
    );
  }
}

/** A Signer over a local ECDSA P-256 key; its key material is the public key with the key id as hint. */
export class LocalKeySigner implements Signer {
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly #privateKey: KeyObject;

  private constructor(privateKey: KeyObject) {
    assertP256(privateKey, 'the signing key');
    const publicKey = createPublicKey(privateKey);
    this.#privateKey = privateKey;
    this.keyId = keyIdOf(publicKey);
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** From a PEM private key (PKCS#8 or SEC1); SIGN_INVALID_KEY when it is not a P-256 private key. */
  static fromPem(pem: string | Buffer): LocalKeySigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (error) {
      throw new ProvenantError('SIGN_INVALID_KEY', 'the signing key is not a PEM private key', {
        cause: error,
      });
    }
    return new LocalKeySigner(key);
  }

  static fromKeyObject(privateKey: KeyObject): LocalKeySigner {
    return new LocalKeySigner(privateKey);
  }

  sign(data: Buffer): Promise<Signature> {
    // ECDSA over SHA-256, DER-encoded: what DSSE and Sigstore verifiers expect.
    const signature = sign('sha256', data, this.#privateKey);
    return Promise.resolve({
      signature,
      key: { $case: 'publicKey', publicKey: this.publicKeyPem, hint: this.keyId },
    });
  }
}
