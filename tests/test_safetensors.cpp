#include "support/catch.hpp"

#include <llmc/error.hpp>
#include <llmc/io/safetensors.hpp>

#include <fstream>

#include "support/oracle.hpp"

using llmc::io::load_safetensors;
using llmc::io::save_safetensors;

TEST_CASE("safetensors round-trips every supported dtype bit-exactly") {
  const auto dir = llmc::test::temp_dir("st-roundtrip");
  llmc::io::TensorMap in;
  auto base = at::linspace(-3.0, 3.0, 24).reshape({2, 3, 4});
  for (auto dtype : {at::kDouble, at::kFloat, at::kHalf, at::kBFloat16, at::kLong, at::kInt,
                     at::kShort, at::kChar, at::kByte, at::kBool, at::kFloat8_e4m3fn}) {
    in[std::string("t_") + c10::toString(dtype)] = base.to(dtype);
  }
  in["empty"] = at::zeros({0, 5});
  save_safetensors(dir / "a.safetensors", in, {{"format", "pt"}});
  const auto file = llmc::io::read_safetensors(dir / "a.safetensors");
  REQUIRE(file.metadata.at("format") == "pt");
  REQUIRE(file.tensors.size() == in.size());
  for (const auto& [name, t] : in) {
    LLMC_CHECK_BIT_EQUAL(file.tensors.at(name), t, name);
  }
}

TEST_CASE("safetensors reader names the file for truncated or corrupt input") {
  const auto dir = llmc::test::temp_dir("st-corrupt");
  const auto path = dir / "bad.safetensors";
  {
    std::ofstream out(path, std::ios::binary);
    const uint64_t header_size = 1000;
    out.write(reinterpret_cast<const char*>(&header_size), 8);
    out << "{}";
  }
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains("bad.safetensors") &&
                                                  Catch::Contains("header size"));
  REQUIRE_THROWS_AS(load_safetensors(dir / "missing.safetensors"), llmc::Error);
}
