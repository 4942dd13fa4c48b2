import { Command, Option } from 'commander';
import { addPhoneModel, addServerModel, getServerModel, IMAGE_LABELS, listPhoneModels, listServerModels } from '../store/catalogue.js';
import { importImage, listPublicImages } from '../store/images.js';
import { getProjectView } from '../store/projects.js';
import { int } from './options.js';
import type { Runner, Table } from './admin.js';

const STATUS_NAMES: Record<string, number> = { creating: 0, production: 1, 'create-failed': 2 };

/** `opencph admin images`: private images of a project, made from the catalogue's public ones. */
export function imagesCommand(run: Runner): Command {
  const cmd = new Command('images').description('private (custom) images of projects');
  cmd
    .command('import')
    .description('make a private image of a project from a public image (see: opencph admin catalogue list)')
    .requiredOption('--project <id>', 'the project (its id) the image belongs to')
    .requiredOption('--name <name>', 'the image name (1 to 128 characters)')
    .requiredOption('--from-image <id>', 'the public image it is made from: its label and OS')
    .option('--version <version>', 'image_version (default: that of the public image)')
    .addOption(new Option('--status <status>', 'its status: production, or creating / create-failed to show clients those').choices(Object.keys(STATUS_NAMES)).default('production'))
    .addOption(new Option('--size <bytes>', 'image_size in bytes').default(4 * 1024 ** 3).argParser(int('size', 1)))
    .option('--support-encrypt', 'is_support_encrypt: true')
    .action(
      run(async (deps, out, _args, o) => {
        const name = String(o.name);
        if (name.length < 1 || name.length > 128 || /[\u0000-\u001f]/.test(name)) throw new Error('--name must be 1 to 128 characters, none of them control characters.');
        if (o.version !== undefined && (String(o.version).length < 1 || String(o.version).length > 64)) throw new Error('--version must be 1 to 64 characters.');
        const image = await importImage(
          deps.db,
          {
            projectId: String(o.project),
            name,
            fromImageId: String(o.fromImage),
            version: o.version === undefined ? undefined : String(o.version),
            status: STATUS_NAMES[String(o.status)],
            sizeBytes: Number(o.size),
            supportEncrypt: o.supportEncrypt !== undefined,
          },
          deps.clock.now(),
          deps.ids,
        );
        const project = await getProjectView(deps.db, image.project_id!);
        out(`imported image ${image.image_name} (${image.image_id}) into project ${project?.name ?? ''} (${image.project_id}): ${image.image_label}, ${image.image_version}`);
      }),
    );
  return cmd;
}

const num = (name: string, min = 1) => int(name, min);

/** `opencph admin catalogue`: the server and phone models a store offers, and its public images. */
export function catalogueCommand(run: Runner, table: Table): Command {
  const cmd = new Command('catalogue').description('server models, phone models and public images');
  cmd
    .command('add-server-model <name>')
    .description('add a server model (e.g. physical.rx2.xlarge)')
    .requiredOption('--server-type <type>', 'the server type, e.g. Hi1616 or Kunpeng920 (at most 32 characters)')
    .addOption(new Option('--cpu <n>', 'CPU cores').argParser(num('cpu')).makeOptionMandatory())
    .addOption(new Option('--memory <GiB>', 'memory in GiB').argParser(num('memory')).makeOptionMandatory())
    .addOption(new Option('--product-type <n>', '0 cloud phone, 1 cloud gaming').choices(['0', '1']).default('0'))
    .addOption(new Option('--disk-max-num <n>', 'cloud volumes it takes (0: local disks only)').argParser(num('disk-max-num', 0)).default(0))
    .addOption(new Option('--free-size <GiB>', 'free disk quota').argParser(num('free-size', 0)).default(0))
    .option('--extend-spec <json>', 'ServerModel.extend_spec as a JSON object (default: made from the other flags)')
    .action(
      run(async (deps, out, [name], o) => {
        const extendSpec = o.extendSpec === undefined ? JSON.stringify({ cpu: `${o.cpu} cores`, memory: `${o.memory}GB`, disk: '', network_interface: '', gpu: '', bms_flavor: name, gpu_count: 0, numa_count: 1 }) : String(o.extendSpec);
        await addServerModel(deps.db, {
          server_model_name: name!,
          server_type: String(o.serverType),
          cpu: Number(o.cpu),
          memory: Number(o.memory),
          extend_spec: extendSpec,
          disk_max_num: Number(o.diskMaxNum),
          product_type: Number(o.productType),
          free_size: Number(o.freeSize),
        });
        out(`added server model ${name}`);
      }),
    );
  cmd
    .command('add-phone-model <name>')
    .description('add a phone model to a server model of the catalogue')
    .requiredOption('--server-model <name>', 'the server model that holds these phones')
    .addOption(new Option('--cpu <n>', 'CPU cores').argParser(num('cpu')).makeOptionMandatory())
    .addOption(new Option('--memory <MB>', 'memory in MB').argParser(num('memory')).makeOptionMandatory())
    .addOption(new Option('--disk <GiB>', 'disk in GiB').argParser(num('disk')).makeOptionMandatory())
    .addOption(new Option('--capacity <n>', 'phones per server').argParser(num('capacity')).makeOptionMandatory())
    .addOption(new Option('--image-label <label>', 'which images it runs').choices([...IMAGE_LABELS]).makeOptionMandatory())
    .option('--resolution <w*h>', 'screen resolution', '720*1280')
    .addOption(new Option('--status <n>', '1 normal, 0 offline (listed, cannot be bought)').choices(['0', '1']).default('1'))
    .addOption(new Option('--version <n>', 'phone_model_version: 0 spec 1.0, 1 spec 2.0').choices(['0', '1']).default('0'))
    .addOption(new Option('--dpi <n>', 'screen density').argParser(num('dpi')).default(320))
    .addOption(new Option('--fps <n>', 'frames per second (also render_fps and stream_fps)').argParser(num('fps')).default(30))
    .addOption(new Option('--volume-mode <n>', 'volume_mode').choices(['0', '1']).default('0'))
    .addOption(new Option('--share-disk-g <GiB>', 'shared storage per server (spec 2.0): sets max_share_disk_size_g in extend_spec').argParser(num('share-disk-g')))
    .option('--spec-code <code>', 'spec_code (default: the model name)')
    .action(
      run(async (deps, out, [name], o) => {
        const server = await getServerModel(deps.db, String(o.serverModel));
        await addPhoneModel(deps.db, {
          phone_model_name: name!,
          server_model_name: String(o.serverModel),
          status: Number(o.status),
          cpu: Number(o.cpu),
          memory: Number(o.memory),
          disk: Number(o.disk),
          resolution: String(o.resolution),
          extend_spec: JSON.stringify(o.shareDiskG === undefined ? {} : { max_share_disk_size_g: Number(o.shareDiskG) }),
          spec_code: String(o.specCode ?? name),
          phone_capacity: Number(o.capacity),
          image_label: String(o.imageLabel),
          // The server model's (addPhoneModel refuses an unknown server model).
          product_type: server?.product_type ?? 0,
          phone_model_version: Number(o.version),
          dpi: Number(o.dpi),
          fps: String(o.fps),
          volume_mode: Number(o.volumeMode),
          render_fps: Number(o.fps),
          stream_fps: Number(o.fps),
        });
        out(`added phone model ${name} to server model ${o.serverModel}`);
      }),
    );
  cmd
    .command('list')
    .description('list server models, phone models and public images')
    .action(
      run(async (deps, out) => {
        const servers = await listServerModels({ db: deps.db });
        table(out, ['SERVER MODEL', 'TYPE', 'CPU', 'MEMORY(G)', 'PRODUCT'], servers.map((s) => [s.server_model_name, s.server_type, String(s.cpu), String(s.memory), String(s.product_type)]));
        out('');
        const phones = await listPhoneModels({ db: deps.db });
        table(
          out,
          ['PHONE MODEL', 'SERVER MODEL', 'STATUS', 'CPU', 'MEMORY(MB)', 'DISK(G)', 'PER SERVER', 'IMAGE LABEL'],
          phones.map((p) => [p.phone_model_name, p.server_model_name, String(p.status), String(p.cpu), String(p.memory), String(p.disk), String(p.phone_capacity), p.image_label]),
        );
        out('');
        const images = await listPublicImages(deps.db);
        table(out, ['PUBLIC IMAGE', 'ID', 'LABEL', 'VERSION'], images.map((i) => [i.image_name, i.image_id, i.image_label, i.image_version]));
      }),
    );
  return cmd;
}
