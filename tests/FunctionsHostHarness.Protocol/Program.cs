using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;

// The worker's gRPC assembly embeds the protocol it speaks (FunctionRpc.proto and its imports) as file descriptors.
// Written out as a FileDescriptorSet, protoc generates the host's side of the same protocol from it: no .proto is
// copied into this repository, and the protocol always matches the worker version the app references.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: FunctionsHostHarness.Protocol <output.pb>");
    return 2;
}

var worker = Assembly.Load("Microsoft.Azure.Functions.Worker.Grpc");
var reflection = worker.GetTypes().Single(t => t.Name == "FunctionRpcReflection");
var root = (FileDescriptor)reflection.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

// Dependencies first, each once, as protoc wants them.
var ordered = new List<FileDescriptor>();
void Add(FileDescriptor file)
{
    if (ordered.Any(f => f.Name == file.Name))
    {
        return;
    }

    foreach (var dependency in file.Dependencies)
    {
        Add(dependency);
    }

    ordered.Add(file);
}

Add(root);
var set = new FileDescriptorSet();
set.File.AddRange(ordered.Select(file => FileDescriptorProto.Parser.ParseFrom(file.SerializedData)));
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[0]))!);
File.WriteAllBytes(args[0], set.ToByteArray());
Console.WriteLine($"{args[0]}: {string.Join(", ", ordered.Select(f => f.Name))}");
return 0;
