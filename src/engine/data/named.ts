/**
 * Image datasets by name (mnist, fashion-mnist, kmnist, cifar10): nothing is
 * downloaded; the files are looked for in the folders of LANDSCAPE_DATA
 * (one folder, or several separated by the platform's path delimiter) and
 * then where Debian's packages put them (/usr/share/datasets, e.g.
 * `apt-get install dataset-fashion-mnist`). Under each root a dataset may be
 * in its own folder (fashion-mnist/) or in torchvision's layout
 * (FashionMNIST/raw). When none is found, the error lists every place
 * looked at and how to get the files.
 */
import * as path from 'node:path';
import { inputError } from '../errors';
import { findCifarFolder, CIFAR_CLASSES, CIFAR_TEST_FILE, CIFAR_TRAIN_FILES } from './cifar';
import { isFolder } from './files';
import { findIdxFiles, IDX_FILE_NAMES, type IdxFiles } from './idxFolder';

export const DATA_PATH_ENV = 'LANDSCAPE_DATA';
export const SYSTEM_DATA_ROOT = '/usr/share/datasets';

export const IMAGE_DATASET_NAMES = ['mnist', 'fashion-mnist', 'kmnist', 'cifar10'] as const;
export type ImageDatasetName = (typeof IMAGE_DATASET_NAMES)[number];

interface NamedDataset {
  format: 'idx' | 'cifar10';
  /** Folders under a root that may hold it. */
  folders: string[];
  classNames: string[];
  /** How to get the files, for the not-found message. */
  howToGet: string;
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const IDX_FILES = IDX_FILE_NAMES.map((n) => `${n}.gz`).join(', ');

const NAMED: Record<ImageDatasetName, NamedDataset> = {
  mnist: {
    format: 'idx',
    folders: ['mnist', 'MNIST/raw'],
    classNames: DIGITS,
    howToGet: `download ${IDX_FILES} (LeCun, Cortes and Burges' MNIST files) into <dir>/mnist`,
  },
  'fashion-mnist': {
    format: 'idx',
    folders: ['fashion-mnist', 'FashionMNIST/raw'],
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    howToGet: `install Debian's package (apt-get install dataset-fashion-mnist), or download ${IDX_FILES} from the zalandoresearch/fashion-mnist repository into <dir>/fashion-mnist`,
  },
  kmnist: {
    format: 'idx',
    folders: ['kmnist', 'KMNIST/raw'],
    classNames: ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo'],
    howToGet: `download the MNIST-format files ${IDX_FILES} from the rois-codh/kmnist repository into <dir>/kmnist`,
  },
  cifar10: {
    format: 'cifar10',
    folders: ['cifar-10-batches-bin', 'cifar10', 'cifar-10'],
    classNames: CIFAR_CLASSES,
    howToGet: `download and unpack the CIFAR-10 binary version (cifar-10-binary.tar.gz: ${[...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE].join(', ')}) into <dir>/cifar-10-batches-bin`,
  },
};

export function isImageDatasetName(s: string): s is ImageDatasetName {
  return (IMAGE_DATASET_NAMES as readonly string[]).includes(s);
}

export function namedClassNames(name: ImageDatasetName): string[] {
  return NAMED[name].classNames.slice();
}

/** The roots searched, in order: each folder of LANDSCAPE_DATA, then /usr/share/datasets. */
export function dataRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env[DATA_PATH_ENV] ?? '').split(path.delimiter).map((s) => s.trim()).filter((s) => s !== '');
  return [...fromEnv, SYSTEM_DATA_ROOT];
}

export type Located = { format: 'idx'; files: IdxFiles } | { format: 'cifar10'; folder: string };

/** Find a named dataset's files under the roots, or throw an error that says where it looked and how to get it. */
export function locateNamedDataset(name: ImageDatasetName, roots: string[] = dataRoots()): Located {
  const info = NAMED[name];
  const looked: string[] = [];
  for (const root of roots) {
    for (const sub of info.folders) {
      const dir = path.join(root, sub);
      if (!isFolder(dir)) {
        looked.push(`${dir} (no such folder)`);
        continue;
      }
      if (info.format === 'cifar10') {
        const folder = findCifarFolder(dir);
        if (folder) return { format: 'cifar10', folder };
        looked.push(`${dir} (no CIFAR-10 batch files)`);
        continue;
      }
      const found = findIdxFiles(dir);
      if (found.files) return { format: 'idx', files: found.files };
      looked.push(found.partial ? `${found.partial.folder} (missing ${found.partial.missing.join(', ')})` : `${dir} (no IDX files)`);
    }
  }
  const env = process.env[DATA_PATH_ENV] ? '' : `; ${DATA_PATH_ENV} is not set`;
  throw inputError(
    `dataset ${name} not found: looked in ${looked.join(', ')}${env}. To get it, ${info.howToGet} and set ${DATA_PATH_ENV}=<dir>, or pass the folder itself with --dataset`,
  );
}
